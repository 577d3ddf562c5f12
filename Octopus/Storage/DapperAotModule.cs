using Dapper;

// Every Dapper call in the app is intercepted at build time: no reflection, AOT-safe.
// Convention: a `Cancel = ct` member in the args object makes the command cancellable, but Dapper.AOT 1.1.0
// generates broken code for it when the SQL text is not a compile-time constant — so calls with composed SQL
// (dialect switches, optional filters) pass no Cancel member.
[module: DapperAot]
