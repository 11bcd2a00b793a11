import { Type } from 'typebox';

export const TokenPairSchema = Type.Object(
  { access: Type.String(), refresh: Type.String() },

);

export const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 254, description: 'Username or email' }),
  password: Type.String({ minLength: 1, maxLength: 4096 }),
});

export const RefreshBody = Type.Object({ refresh: Type.String({ minLength: 1, maxLength: 4096 }) });
