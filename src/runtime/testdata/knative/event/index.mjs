// func's CloudEvents template shape: receives an event, answers with one.
export const handle = async (context, event) => ({
  specversion: '1.0',
  id: `reply-${event.id}`,
  source: '/cloudbase/test',
  type: 'dev.cloudbase.reply',
  datacontenttype: 'application/json',
  data: { received: event.data, type: event.type },
});
