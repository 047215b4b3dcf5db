export const hello = (event) => `hello esm ${event.data.name}`;
