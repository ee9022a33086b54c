/** Injection tokens for values made before the Nest application (config, data source). */
export const CONFIG = Symbol('CordonConfig');
export const LOGGER = Symbol('PinoLogger');
