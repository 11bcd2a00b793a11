import { Type } from 'typebox';
import { named } from '../../shared/openapi.js';

export const TokenPairSchema = named('TokenPair', Type.Object({ access: Type.String(), refresh: Type.String() }));

export const LoginBody = named(
  'LoginRequest',
  Type.Object({
    username: Type.String({ minLength: 1, maxLength: 254, description: 'Username or email' }),
    password: Type.String({ minLength: 1, maxLength: 4096 }),
  }),
);

export const RefreshBody = named('TokenRefreshRequest', Type.Object({ refresh: Type.String({ minLength: 1, maxLength: 4096 }) }));
