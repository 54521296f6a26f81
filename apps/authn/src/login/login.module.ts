import { Module } from '@nestjs/common';
import { CredentialRepository } from '../credentials/credential.repository.js';
import { PasswordHasher } from '../credentials/password-hasher.js';
import { SessionStore } from '../sessions/session.store.js';
import { LoginHandler } from './login.handler.js';
import { LoginService } from './login.service.js';

@Module({ controllers: [LoginHandler], providers: [LoginService, CredentialRepository, PasswordHasher, SessionStore] })
export class LoginModule {}
