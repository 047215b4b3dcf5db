// Workers style: an object with a fetch method.
export default {
  greeting: 'worker style',
  async fetch(request) {
    return new Response(`${this.greeting} ${request.method}`);
  },
};
