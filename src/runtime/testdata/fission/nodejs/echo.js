module.exports = async function (context) {
  const req = context.request;
  return {
    status: 200,
    body: { method: req.method, url: req.url, query: req.query, body: req.body, header: req.get('x-test') },
    headers: { 'X-Fission': 'yes' },
  };
};
