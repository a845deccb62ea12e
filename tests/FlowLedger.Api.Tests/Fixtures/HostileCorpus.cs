using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FlowLedger.Api.Tests.Fixtures;

/// <summary>One request a hostile or broken client could send, and why it must be refused.</summary>
public sealed record HostileRequest(string Kind, HttpMethod Method, string Url, byte[]? Body, string? ContentType)
{
    public override string ToString() =>
        $"{Kind}: {Method} {Url} [{ContentType}] {(Body is null ? "" : Encoding.UTF8.GetString(Body[..Math.Min(Body.Length, 300)]))}";
}

/// <summary>
/// Requests every one of which must be refused, generated from a seed: valid requests between two
/// registered companies, each broken in one way that no server should accept.
/// </summary>
public sealed class HostileCorpus(Random random, string a, string b, Guid knownEvent)
{
    /// <summary>Texts that are no company id, deal id, currency, date, enum or number.</summary>
    private static readonly string[] Poison =
    [
        "'; drop table flowledger.mt_events; --", "\" or 1=1 --", "<script>alert(1)</script>", "${jndi:ldap://x/a}",
        "../../etc/passwd", "UPPER-CASE", "with space", "ñandú", "日本語", "\u0000", "\u001b[31m", "\u202e-rtl",
        "emoji-🙂", "", " ", new string('x', 65), new string('y', 5000), "NULL", "-1.5", "a\nb", "%00", "\ud800",
    ];

    /// <summary>In a URL path a NUL never reaches the app: the server (and the test host's client) refuses the request line.</summary>
    private static readonly string[] PathPoison = Poison.Where(p => !p.Contains('\0')).ToArray();

    private static readonly string[] BadNumbers =
    [
        "0", "-1", "-0.000001", "0.0000000001", "1e30", "1000000000000000000000000000000", "79228162514264337593543950335",
        "1e400", "-1e400", "1000000000000001", "\"5\"", "true", "[]", "{}", "null", "NaN", "Infinity", "0x10", "1.5e-20", "01",
    ];

    private static readonly string[] BadDates =
    [
        "\"2025-02-30\"", "\"2025-13-01\"", "\"2025-1-1\"", "\"01/02/2025\"", "\"\"", "\"yesterday\"", "20250101", "null",
        "\"2025-01-01T00:00:00Z\"", "\"99999-01-01\"", "\"-0001-01-01\"", "[]", "\"2025-01-01\\u0000\"",
    ];

    private static readonly string[] WrongTypes = ["5", "true", "[]", "{}", "null", "\"\"", "1.5", "\"5\""];

    private static readonly string[] NonObjects = ["", " ", "null", "[]", "[{}]", "1", "\"text\"", "true", "{", "}", "{]", "\u00ff\u00fe", "{'a':1}", "{\"a\":1,}", "{\"a\" 1}"];

    private static readonly string[] WrongContentTypes = ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "image/png", "application/jsonx"];

    public IEnumerable<HostileRequest> Generate(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return random.Next(100) switch
            {
                < 45 => BrokenDealEvent(),
                < 55 => BrokenRegistration(),
                < 62 => BrokenImport(),
                < 67 => BrokenReversal(),
                < 87 => BadQuery(),
                < 97 => WrongContentType(),
                _ => Oversized(),
            };
        }
    }

    /// <summary>Valid deal events between a and b, with only their required fields.</summary>
    private JsonObject ValidDealEvent() => random.Next(10) switch
    {
        0 => Object(("type", "InvestmentAnnounced"), ("investor", a), ("investee", b), ("upTo", Usd(100)), ("instrument", "equity")),
        1 => Object(("type", "InvestmentFunded"), ("investor", a), ("investee", b), ("amount", Usd(10))),
        2 => Object(("type", "WarrantsIssued"), ("issuer", a), ("holder", b), ("shares", 100), ("strikePrice", Usd(1))),
        3 => Object(("type", "PurchaseCommitted"), ("buyer", a), ("seller", b), ("amount", Usd(50))),
        4 => Object(("type", "ChipsPurchased"), ("buyer", a), ("vendor", b), ("chipModel", "H100"), ("units", 10), ("unitPrice", Usd(3))),
        5 => Object(("type", "ServicesPaid"), ("payer", a), ("payee", b), ("amount", Usd(5)), ("description", "compute")),
        6 => Object(("type", "LoanDrawn"), ("lender", a), ("borrower", b), ("amount", Usd(20))),
        7 => Object(("type", "RevenueRecognized"), ("company", a), ("amount", Usd(7))),
        8 => Object(("type", "ExpenseIncurred"), ("company", a), ("amount", Usd(3)), ("category", "opex")),
        _ => Object(("type", "CommitmentCancelled"), ("reason", "cancelled")),
    };

    private JsonObject ValidRegistration() =>
        Object(("companyId", $"c-{random.Next(1_000_000)}"), ("name", "Company"), ("kind", "ai-lab"), ("openingCash", Usd(1)));

    private HostileRequest BrokenDealEvent()
    {
        var body = ValidDealEvent();
        var deal = $"hostile-{random.Next(1000)}";
        if (random.Next(12) == 0)
        {
            // The body is fine; the deal id in the path is not.
            body["effectiveOn"] = "2025-01-01";
            return Post("deal id", $"/api/deals/{Uri.EscapeDataString(Pick(PathPoison))}X/events", body.ToJsonString());
        }
        var (kind, text) = Break(body, PartyFields.Concat(["effectiveOn"]).ToArray());
        return Post($"deal event: {kind}", $"/api/deals/{deal}/events", text);
    }

    private HostileRequest BrokenRegistration()
    {
        var (kind, text) = Break(ValidRegistration(), ["companyId", "effectiveOn"]);
        return Post($"registration: {kind}", "/api/companies", text);
    }

    private HostileRequest BrokenImport()
    {
        var lines = Enumerable.Range(0, random.Next(1, 6)).Select(_ =>
        {
            var line = ValidDealEvent();
            line["dealId"] = $"hostile-import-{random.Next(1000)}";
            line["effectiveOn"] = "2025-01-01";
            return line.ToJsonString();
        }).ToList();
        // All or nothing: one broken line among good ones must keep the good ones out too.
        var (kind, broken) = Break(ValidDealEvent(), PartyFields.Concat(["effectiveOn"]).ToArray());
        // A blank line is skipped by design, so it would break nothing.
        broken = string.IsNullOrWhiteSpace(broken) ? "{" : broken;
        lines.Insert(random.Next(lines.Count + 1), broken.Replace('\n', ' '));
        return new HostileRequest($"import: {kind}", HttpMethod.Post, "/api/import", Encoding.UTF8.GetBytes(string.Join('\n', lines)), "application/x-ndjson");
    }

    private HostileRequest BrokenReversal() => random.Next(4) switch
    {
        0 => Post("reversal of no event id", $"/api/events/{Uri.EscapeDataString(Pick(PathPoison))}z/reversal", """{"reason":"x"}"""),
        1 => Post("reversal of an unknown event", $"/api/events/{Guid.NewGuid()}/reversal", """{"reason":"x"}"""),
        2 => Post("reversal with a broken body", $"/api/events/{knownEvent}/reversal", Pick(NonObjects)),
        _ => Post("reversal with a wrong field", $"/api/events/{knownEvent}/reversal", $$"""{"reason":{{Pick(BadNumbers)}},"{{Pick(["why", "reason2", "eventId"])}}":1}"""),
    };

    private HostileRequest BadQuery()
    {
        var poison = Uri.EscapeDataString(Pick(PathPoison.Where(p => p.Length < 100).ToArray()));
        var (path, parameter) = Pick(
        [
            ("/api/balances", "asOf"), ("/api/balances", "knownAt"), ($"/api/companies/{a}/balance", "asOf"), ($"/api/companies/{a}/balance", "knownAt"),
            ("/api/events", "limit"), ("/api/events", "afterSequence"), ("/api/trace", "policy"), ("/api/trace", "from"),
            ("/api/trace", "currency"), ("/api/trace", "asOf"), ("/api/loops", "layer"), ("/api/loops", "maxLength"), ("/api/loops", "limit"),
            ("/api/loops", "minAmount"), ("/api/loops", "currency"), ("/api/loops", "from"), ("/api/replay", "from"), ("/api/replay", "to"),
            ("/api/replay", "knownAt"), ($"/api/deals/{Uri.EscapeDataString(Pick(PathPoison))}q", "asOf"), ($"/api/companies/{poison}q/balance", "asOf"),
            ("/api/trace", "source"),
        ]);
        var value = parameter switch
        {
            "limit" or "maxLength" => Pick(["0", "-1", "100000", "abc", "1.5", "99999999999999999999", poison + "!"]),
            "afterSequence" or "minAmount" => Pick(["abc", "-1e400", "1e400", "NaN", poison + "!", "99999999999999999999999999999999"]),
            _ => poison + Pick(["!", "-13-45", "T25:00:00Z"]),
        };
        // The trace needs a source: give it one unless the source is what is broken.
        var source = path == "/api/trace" && parameter != "source" ? $"source={a}&" : "";
        return new HostileRequest($"query {path} {parameter}", HttpMethod.Get, $"{path}?{source}{parameter}={value}", null, null);
    }

    private HostileRequest WrongContentType()
    {
        var body = ValidDealEvent();
        body["effectiveOn"] = "2025-01-01";
        return new HostileRequest("content type", HttpMethod.Post, $"/api/deals/hostile-{random.Next(1000)}/events",
            Encoding.UTF8.GetBytes(body.ToJsonString()), Pick(WrongContentTypes));
    }

    private HostileRequest Oversized()
    {
        var body = ValidDealEvent();
        body["effectiveOn"] = "2025-01-01";
        body["note"] = new string('n', 1024 * 1024 + random.Next(1000));
        return Post("oversized", $"/api/deals/hostile-{random.Next(1000)}/events", body.ToJsonString());
    }

    /// <summary>Breaks one thing: the JSON itself, a field's value, a date, an amount, or adds a field no event has.</summary>
    private (string Kind, string Text) Break(JsonObject body, string[] names)
    {
        body["effectiveOn"] = "2025-01-01";
        var text = body.ToJsonString();
        switch (random.Next(9))
        {
            case 0:
                return ("truncated JSON", text[..random.Next(1, text.Length - 1)]);
            case 1:
                return ("not an object", Pick(NonObjects));
            case 2:
                return ("bad date", Replace(body, "effectiveOn", Pick(BadDates)));
            case 3 when body.ContainsKey("amount") || body.ContainsKey("upTo") || body.ContainsKey("unitPrice") || body.ContainsKey("openingCash") || body.ContainsKey("strikePrice"):
                var money = body.First(p => p.Value is JsonObject).Key;
                // Opening cash and strike prices may be zero.
                var numbers = money is "openingCash" or "strikePrice" ? BadNumbers.Where(n => n != "0").ToArray() : BadNumbers;
                return random.Next(3) == 0
                    ? ("bad currency", Replace(body, money, $$"""{"amount":5,"currency":{{JsonSerializer.Serialize(Pick(["usd", "US", "USDT", "", "€", "U$D", "DROP"]))}}}"""))
                    : ("bad amount", Replace(body, money, $$"""{"amount":{{Pick(numbers)}},"currency":"USD"}"""));
            case 4 when names.Any(body.ContainsKey):
                var party = Pick(names.Where(body.ContainsKey).ToArray());
                // An unknown company is refused in a deal; registering one is what registration is for.
                var replacement = random.Next(3) == 0 && party != "companyId" ? $"ghost-{random.Next(1_000_000)}" : Pick(Poison);
                return ($"bad {party}", Replace(body, party, JsonSerializer.Serialize(replacement)));
            case 5:
                // Required fields only: an optional one may be null.
                var field = Pick(body.Select(p => p.Key).Where(k => k is not ("type" or "openingCash")).ToArray());
                var sameType = body[field]!.GetValueKind() == JsonValueKind.String ? "\"5\"" : "5";
                return ($"wrong type for {field}", Replace(body, field, Pick(WrongTypes.Where(v => v != sameType).ToArray())));
            case 6:
                return ("unknown field", Replace(body, Pick(["amount2", "recordedAt", "recordedBy", "sequence", "__proto__", "$where", "Type"]), JsonSerializer.Serialize(Pick(Poison))));
            case 7:
                return ("unknown type", Replace(body, "type", JsonSerializer.Serialize(Pick(["EntryReversed2", "companyregistered", "", "Object", "System.Object", .. Poison]))));
            default:
                return ("nested too deep", Replace(body, "note", new string('[', 2000) + new string(']', 2000)));
        }
    }

    private static string Replace(JsonObject body, string field, string json)
    {
        var copy = body.DeepClone().AsObject();
        copy[field] = "\u0001placeholder";
        return copy.ToJsonString().Replace("\"\\u0001placeholder\"", json, StringComparison.Ordinal);
    }

    private static readonly string[] PartyFields = ["investor", "investee", "issuer", "holder", "buyer", "seller", "vendor", "payer", "payee", "lender", "borrower", "company", "companyId"];

    private static HostileRequest Post(string kind, string url, string body) =>
        new(kind, HttpMethod.Post, url, Encoding.UTF8.GetBytes(body), "application/json");

    private T Pick<T>(T[] items) => items[random.Next(items.Length)];

    private static JsonObject Usd(decimal amount) => new() { ["amount"] = amount, ["currency"] = "USD" };

    private static JsonObject Object(params (string Name, JsonNode? Value)[] fields) =>
        new(fields.Select(f => KeyValuePair.Create(f.Name, f.Value)));
}
