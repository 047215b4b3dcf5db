'use strict';

// The node20 template's example function.
module.exports = async (event, context) => {
  const result = {
    body: JSON.stringify(event.body),
    'content-type': event.headers['content-type'],
  };

  return context.status(200).succeed(result);
};
