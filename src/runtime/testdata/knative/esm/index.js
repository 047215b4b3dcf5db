export const handle = async (context, body) => `hello ${body?.name ?? 'world'}`;
