module.exports = {
  foo: function (event, context) {
    return event.data;
  },
  hello: async (event) => `hello ${typeof event.data === 'string' ? event.data : JSON.stringify(event.data)}`,
  info: (event, context) => ({
    functionName: context['function-name'],
    timeout: context.timeout,
    runtime: context.runtime,
    eventId: event['event-id'],
    eventType: event['event-type'],
    eventTime: event['event-time'],
    eventNamespace: event['event-namespace'],
    path: event.extensions.request.path,
  }),
  teapot: (event) => {
    event.extensions.response.status(418).end('I am a teapot');
  },
};
