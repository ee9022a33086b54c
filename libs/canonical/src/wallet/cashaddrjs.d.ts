declare module 'cashaddrjs' {
  interface Decoded {
    prefix: string;
    type: string;
    hash: Uint8Array;
  }
  const cashaddr: {
    encode(prefix: string, type: string, hash: Uint8Array): string;
    decode(address: string): Decoded;
  };
  export default cashaddr;
}
