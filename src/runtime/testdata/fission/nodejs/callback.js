// The callback form: Fission picks it because the function declares two parameters.
module.exports = function (context, callback) {
  setTimeout(() => callback(201, `created ${context.request.url}`, { 'Content-Type': 'text/plain' }), 5);
};
