'use strict';

module.exports = async (event, context) => {
  if (event.path === '/missing') {
    return context
      .status(404)
      .headers({ 'Content-Type': 'application/json' })
      .succeed({ message: 'The record requested was not found.' });
  }
  if (event.path === '/redirect') {
    return context.headers({ Location: 'https://example.com/' }).status(307).succeed('Page has moved.');
  }
  if (event.path === '/fail') {
    return context.fail('Unable to process this event.');
  }
  if (event.path === '/callback') {
    return new Promise((resolve) => setTimeout(() => resolve({ late: true }), 5));
  }
  if (event.path === '/throw') {
    throw new Error('database down');
  }
  // A returned value means success.
  return { method: event.method, path: event.path, query: event.query, body: event.body };
};
