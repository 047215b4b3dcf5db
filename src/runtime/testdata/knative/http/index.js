'use strict';

// func's Node.js HTTP template.
const handle = async (context, body) => {
  context.log.info({ query: context.query }, 'query');
  if (context.method === 'POST') {
    return { body };
  } else if (context.method === 'GET') {
    if (context.query.status) {
      return {
        statusCode: Number(context.query.status),
        headers: { 'X-Custom': 'yes' },
        body: 'custom status',
      };
    }
    if (context.query.nothing) return undefined;
    if (context.query.fail) {
      const err = new Error('no such item');
      err.code = 404;
      throw err;
    }
    return { query: context.query, name: context.name };
  } else {
    return { statusCode: 405, statusMessage: 'Method not allowed' };
  }
};

module.exports = { handle };
