export { parseLenientJson, positionOf, type JsonValue, type JsonObject, type JsonParseOptions } from './lenient-json.js';
export { readJsonConfig, parseJsonConfig, isJsonObject, jsonKind } from './read-config.js';
export { JsonSyntaxError, ConfigNotObjectError, type JsonTextPosition } from './errors.js';
