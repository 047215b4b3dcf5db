// module.exports itself is the function; kubeless calls it whatever the handler's name.
module.exports = function (event) {
  return { single: true, data: event.data };
};
