import { Type } from 'typebox';
import type { Static } from 'typebox';
import { PageQuery } from '../../shared/pagination.js';
import { Id } from '../../shared/schemas.js';
import { named } from '../../shared/openapi.js';

export const MAX_NAME_LENGTH = 100;

export const CategorySchema = named(
  'Category',
  Type.Object({
    id: Type.Integer(),
    name: Type.String(),
    slug: Type.String(),
    description: Type.String(),
    courses_count: Type.Integer({ description: 'Published courses in the category' }),
  }),
);
export type Category = Static<typeof CategorySchema>;

const Name = Type.String({ description: `1 to ${MAX_NAME_LENGTH} characters, unique ignoring case` });
const Description = Type.String({ maxLength: 5000 });

export const CategoryCreateBody = named(
  'CategoryRequest',
  Type.Object({
    name: Name,
    description: Type.Optional(Description),
  }),
);
export type CategoryCreateInput = Static<typeof CategoryCreateBody>;

export const CategoryPatchBody = named(
  'PatchedCategoryRequest',
  Type.Object({
    name: Type.Optional(Name),
    description: Type.Optional(Description),
  }),
);
export type CategoryPatchInput = Static<typeof CategoryPatchBody>;

export const CategoryListQuery = Type.Object({ ...PageQuery });
export type CategoryListQueryInput = Static<typeof CategoryListQuery>;

export const CategoryIdParams = Type.Object({ id: Id() });
