/** Scripts the bundle carries as text (esbuild's text loader): `import script from "./x.lua"` is the file's content. */
declare module "*.lua" {
  const source: string;
  export default source;
}
