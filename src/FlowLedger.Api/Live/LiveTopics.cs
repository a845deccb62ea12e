using FlowLedger.Api.Ledger;
using FlowLedger.Domain;

namespace FlowLedger.Api.Live;

/// <summary>What a subscriber follows (SPEC §8): every event, a company's balance, a deal's state, or the loops.</summary>
public readonly record struct Topic(string Kind, string? Id = null)
{
    public const string Events = "events";
    public const string Company = "company";
    public const string Deal = "deal";
    public const string Loops = "loops";

    public override string ToString() => Id is null ? Kind : $"{Kind}:{Id}";
}

/// <summary>The topics of one subscriber (or of a webhook), parsed from <c>events,company:openai,deal:x,loops</c>.</summary>
public sealed class TopicSet
{
    private readonly HashSet<Topic> _topics;

    public TopicSet(IEnumerable<Topic> topics)
    {
        _topics = [.. topics];
        Key = string.Join(',', _topics.Select(t => t.ToString()).Order(StringComparer.Ordinal));
    }

    public IReadOnlyCollection<Topic> All => _topics;

    /// <summary>The same for two sets of the same topics, in whatever order they were given.</summary>
    public string Key { get; }

    public bool Contains(Topic topic) => _topics.Contains(topic);

    public static TopicSet Union(IEnumerable<TopicSet> sets) => new(sets.SelectMany(set => set._topics));

    /// <summary>400 on anything that is not a topic, so a typo never subscribes to silence.</summary>
    public static TopicSet Parse(IEnumerable<string?> values)
    {
        var topics = values
            .SelectMany(value => (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(ParseOne)
            .ToList();
        return topics.Count > 0
            ? new TopicSet(topics)
            : throw new MalformedRequestException("topics is required: a comma-separated list of events, company:{id}, deal:{id}, loops.");
    }

    private static Topic ParseOne(string text)
    {
        var separator = text.IndexOf(':');
        var kind = separator < 0 ? text : text[..separator];
        var id = separator < 0 ? null : text[(separator + 1)..];
        return (kind, id) switch
        {
            (Topic.Events or Topic.Loops, null) => new Topic(kind),
            (Topic.Company or Topic.Deal, { } named) when EventRules.IsSlug(named) => new Topic(kind, named),
            _ => throw new MalformedRequestException(
                $"topic '{text}' is not one of events, company:{{id}}, deal:{{id}}, loops."),
        };
    }
}
