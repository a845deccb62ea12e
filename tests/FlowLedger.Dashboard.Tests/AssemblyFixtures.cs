// One PostgreSQL server for the whole run; the dashboard's app gets a database of its own on it.
[assembly: AssemblyFixture(typeof(FlowLedger.Testing.PostgresServer))]
