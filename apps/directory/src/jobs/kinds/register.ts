import { Injectable, type OnModuleInit } from '@nestjs/common';
import { JobKinds } from '../kinds.js';
import { GroupsCsv } from './groups-csv.js';
import { UsersCsv } from './users-csv.js';

/** Puts the directory's CSV importers and exporters in the registry the job runner reads. */
@Injectable()
export class CsvKindsRegistration implements OnModuleInit {
  constructor(
    private readonly kinds: JobKinds,
    private readonly users: UsersCsv,
    private readonly groups: GroupsCsv,
  ) {}

  onModuleInit(): void {
    this.kinds.registerImporter(this.users.importer);
    this.kinds.registerExporter(this.users.exporter);
    this.kinds.registerImporter(this.groups.groupsImporter);
    this.kinds.registerExporter(this.groups.groupsExporter);
    this.kinds.registerImporter(this.groups.membersImporter);
    this.kinds.registerExporter(this.groups.membersExporter);
  }
}
