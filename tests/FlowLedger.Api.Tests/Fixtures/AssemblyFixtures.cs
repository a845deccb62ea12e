// One PostgreSQL server for the whole run; every test class creates a database of its own on it.
[assembly: AssemblyFixture(typeof(FlowLedger.Testing.PostgresServer))]
