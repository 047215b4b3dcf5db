// Fission's word-count example (text body in, count out).
module.exports = async function (context) {
  const text = context.request.body;
  const count = text.split(/\s+/).filter((w) => w !== '').length;
  return { status: 200, body: String(count) };
};
