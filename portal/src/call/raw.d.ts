// Vite's ?raw imports (the call's unit test reads its sources to check translation keys).
declare module '*?raw' {
  const text: string;
  export default text;
}
