export default async (event, context) => context.status(201).succeed(`created ${event.body.name}`);
