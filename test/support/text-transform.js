/** Jest's counterpart of esbuild's text loader: a .lua file imports as its content (the default export). */
module.exports = {
  process(source) {
    return { code: `module.exports = { __esModule: true, default: ${JSON.stringify(source)} };` };
  },
};
