export default async function (context) {
  return { status: 200, body: `hello from esm ${context.request.method}` };
}
