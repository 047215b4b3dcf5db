// A fetch-style function, written as for Cloudflare Workers / Deno / Bun.
export default async function handler(request, context) {
  const url = new URL(request.url);
  switch (url.pathname) {
    case '/json':
      return { hello: url.searchParams.get('name') ?? 'world', function: context.functionName };
    case '/text':
      return `hello ${url.searchParams.get('name') ?? 'world'}`;
    case '/empty':
      return undefined;
    case '/boom':
      throw new Error('boom');
    case '/slow':
      await new Promise((resolve) => setTimeout(resolve, Number(url.searchParams.get('ms') ?? '1000')));
      return 'slow done';
    case '/cookies': {
      const headers = new Headers({ 'content-type': 'text/plain' });
      headers.append('set-cookie', 'a=1');
      headers.append('set-cookie', 'b=2');
      return new Response('cookies', { status: 200, headers });
    }
    case '/echo': {
      const body = await request.json();
      return Response.json(
        { received: body, method: request.method, requestId: context.requestId },
        { status: 201, headers: { 'x-handler': 'esm' } },
      );
    }
    case '/size':
      return { bytes: (await request.arrayBuffer()).byteLength };
    default:
      return new Response(`hello from ${request.method} ${url.pathname}`, {
        headers: { 'content-type': 'text/plain' },
      });
  }
}

export const named = async () => 'named export';
