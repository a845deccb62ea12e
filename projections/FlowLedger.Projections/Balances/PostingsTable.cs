using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace FlowLedger.Projections.Balances;

/// <summary>
/// The postings of every visible event, versioned in recorded time: a row is what the ledger held
/// true from <c>known_from</c> until <c>known_to</c> (open while null). A balance at (asOf, knownAt)
/// is a sum over the rows effective by asOf and known at knownAt — no replay of the store.
/// </summary>
public static class PostingsTable
{
    public const string Name = "fl_postings";

    public static Table Define(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, Name, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<Guid>("event_id").AsPrimaryKey();
        table.AddColumn<int>("ordinal").AsPrimaryKey();
        table.AddColumn<DateTimeOffset>("known_from").AsPrimaryKey();
        table.AddColumn<DateTimeOffset>("known_to").AllowNulls();
        table.AddColumn<string>("stream_key").NotNull();
        table.AddColumn<DateOnly>("effective_on").NotNull();
        table.AddColumn<string>("layer").NotNull();
        table.AddColumn<string>("asset").NotNull();
        table.AddColumn<string>("from_party").NotNull();
        table.AddColumn<string>("to_party").NotNull();
        table.AddColumn("quantity", "numeric").NotNull();
        table.Indexes.Add(new IndexDefinition("ix_fl_postings_from") { Columns = ["from_party", "effective_on"] });
        table.Indexes.Add(new IndexDefinition("ix_fl_postings_to") { Columns = ["to_party", "effective_on"] });
        table.Indexes.Add(new IndexDefinition("ix_fl_postings_open") { Columns = ["event_id"], Predicate = "known_to is null" });
        return table;
    }

    public static string LayerName(Domain.Layer layer) => layer.ToString().ToLowerInvariant();

    public static Domain.Layer ParseLayer(string name) => Enum.Parse<Domain.Layer>(name, ignoreCase: true);
}
