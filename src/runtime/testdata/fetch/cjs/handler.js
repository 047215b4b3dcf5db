'use strict';

module.exports = async (request) => new Response(`hello from cjs ${new URL(request.url).pathname}`);

module.exports.other = async () => ({ from: 'other' });
