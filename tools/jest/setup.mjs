// Decorator metadata for Nest and TypeORM, before any test module loads.
import 'reflect-metadata';
