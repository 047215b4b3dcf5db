// Answers through the Express response instead of returning.
module.exports = async function (context) {
  context.response.status(202).json({ via: 'response' });
};
