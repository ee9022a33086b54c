import { Module } from '@nestjs/common';
import { CategoriesResolver } from './categories.resolver.js';
import { CategoriesService } from './categories.service.js';

/** The category vocabulary (README "Categories"). */
@Module({ providers: [CategoriesService, CategoriesResolver], exports: [CategoriesService] })
export class CategoriesModule {}
