import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Every schema in Galion comes from this `z`, so each one can describe itself in OpenAPI.
extendZodWithOpenApi(z);

export { z };
