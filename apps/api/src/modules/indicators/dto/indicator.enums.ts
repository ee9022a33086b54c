import { registerEnumType } from '@nestjs/graphql';

export enum IndicatorKind {
  WALLET_ADDRESS = 'WALLET_ADDRESS',
  MERCHANT_ID = 'MERCHANT_ID',
  DOMAIN = 'DOMAIN',
  URL = 'URL',
}

export enum IndicatorStatus {
  PENDING = 'PENDING',
  ACTIVE = 'ACTIVE',
  DISPUTED = 'DISPUTED',
  REJECTED = 'REJECTED',
  EXPIRED = 'EXPIRED',
  REVOKED = 'REVOKED',
}

export enum Tlp {
  CLEAR = 'CLEAR',
  GREEN = 'GREEN',
  AMBER = 'AMBER',
  AMBER_STRICT = 'AMBER_STRICT',
  RED = 'RED',
}

registerEnumType(IndicatorKind, { name: 'IndicatorKind' });
registerEnumType(IndicatorStatus, { name: 'IndicatorStatus' });
registerEnumType(Tlp, { name: 'Tlp', description: 'FIRST TLP 2.0' });
