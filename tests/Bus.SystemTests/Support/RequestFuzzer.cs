using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Bus.SystemTests.Support;

/// <summary>One generated bad request, and the requestId it carries when it has one (it must never become a job).</summary>
public sealed record BadRequest(string Kind, HttpRequestMessage Request, string? RequestId, string Description);

/// <summary>
/// Generates requests the gateway must refuse with a 4xx: valid bodies with one field broken (wrong type, out of
/// range, over a limit, unknown, given twice), broken JSON, random bytes, deep nesting, huge bodies, bad headers and
/// methods, and bad query strings. Every body is built so that it cannot be valid by accident. Seeded, so a failure
/// can be replayed.
/// </summary>
public sealed class RequestFuzzer(Random random, string run)
{
    public static string Key => RunningSystem.AdminKey;
    int _count;

    public string Run => run;

    public BadRequest Next()
    {
        var id = $"{run}-bad-{_count++}";
        return random.Next(8) switch
        {
            0 or 1 => MutatedField(id),
            2 => BrokenJson(id),
            3 => RandomBytes(),
            4 => DeepNesting(id),
            5 => Huge(id),
            6 => BadHeaders(id),
            _ => BadQuery(),
        };
    }

    static JsonObject Valid(string id) => new()
    {
        ["requestId"] = id,
        ["service"] = "shell",
        ["command"] = new JsonArray("/bin/true"),
        ["resources"] = new JsonObject { ["cpus"] = 1, ["memoryMb"] = 0, ["gpus"] = 0 },
        ["constraints"] = new JsonObject { ["language"] = null, ["pool"] = null, ["excludeWorker"] = null, ["affinityKey"] = null },
        ["priority"] = 50,
        ["timeoutSeconds"] = 60,
        ["maxAttempts"] = 1,
    };

    T Pick<T>(params T[] choices) => choices[random.Next(choices.Length)];

    string Text(int length, string alphabet = "abcdefghijklmnopqrstuvwxyz") =>
        new(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());

    BadRequest MutatedField(string id)
    {
        var body = Valid(id);
        var resources = body["resources"]!.AsObject();
        var constraints = body["constraints"]!.AsObject();
        var mutations = new (string Name, Action Apply)[]
        {
            ("requestId type", () => body["requestId"] = Pick<JsonNode>(7, new JsonArray(id), new JsonObject { ["id"] = id }, true)),
            ("requestId text", () => body["requestId"] = Pick("", id + "\n", id + " x", new string('r', 129), id + "é", "\n" + id)),
            ("command type", () => body["command"] = Pick<JsonNode>("/bin/true", 5, new JsonObject(), new JsonArray(1, 2), new JsonArray("/bin/echo", null), new JsonArray())),
            ("command limits", () => body["command"] = Pick(
                new JsonArray([.. Enumerable.Range(0, 1025).Select(_ => (JsonNode?)"a")]),
                new JsonArray("/bin/echo", new string('x', 70_000)),
                new JsonArray("/bin/echo", "a\0b"),
                new JsonArray("", "x"))),
            ("no command for shell", () => body.Remove("command")),
            ("cpus", () => resources["cpus"] = Pick<JsonNode>("two", 1.5, -1, 0, 5000, 1L << 40, true, new JsonArray())),
            ("memory", () => resources["memoryMb"] = Pick<JsonNode>(-1, "1GB", 1L << 33, 0.5)),
            ("gpus", () => resources["gpus"] = Pick<JsonNode>(-3, 2000, "x")),
            ("resources type", () => body["resources"] = Pick<JsonNode>("big", 4, new JsonArray())),
            ("priority", () => body["priority"] = Pick<JsonNode>(50.5, -1, 101, "50", 1e10, false)),
            ("timeout", () => body["timeoutSeconds"] = Pick<JsonNode>(0, -5, 99_999_999_999L, 259_201, "1h", 2.5)),
            ("attempts", () => body["maxAttempts"] = Pick<JsonNode>(0, 11, 1.5, "3")),
            ("service", () => body["service"] = Pick<JsonNode>("", "Shell", "shell\n", "a b", new string('s', 65), 5, "-x")),
            ("constraint", () => constraints[Pick("language", "pool", "excludeWorker", "affinityKey")] =
                Pick<JsonNode>(new string('l', 129 + random.Next(1000)), "x\ny", "a\0", 5, new JsonArray(), "tab\there")),
            ("payload too big", () => body["payload"] = new string('p', 70_000)),
            ("unknown field", () => Pick(body, resources, constraints)[Pick("cores", "env2", "Extra", "command_", "x" + Text(6))] = 1),
            ("constraints type", () => body["constraints"] = Pick<JsonNode>("zh", 1, new JsonArray("zh"))),
        };
        var (name, apply) = mutations[random.Next(mutations.Length)];
        apply();
        return Post("mutated " + name, Json(body.ToJsonString()), id);
    }

    BadRequest BrokenJson(string id)
    {
        var json = Valid(id).ToJsonString();
        var broken = random.Next(3) switch
        {
            0 => json[..random.Next(json.Length - 1)], // an object without its closing brace is never complete
            1 => json.Insert(random.Next(json.Length), "\u0001"), // a raw control character is invalid anywhere in JSON
            _ => json.Replace($"\"{id}\"", $"\"{id}\",\"requestId\":\"{id}-2\""), // the same field twice
        };
        return Post("broken json", Json(broken), id);
    }

    BadRequest RandomBytes()
    {
        var bytes = new byte[1 + random.Next(2000)];
        random.NextBytes(bytes);
        bytes[0] = (byte)Pick('x', '#', ']', 0xFF, 0x00); // never the start of a JSON object
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return Post("random bytes", content, null);
    }

    BadRequest DeepNesting(string id)
    {
        var depth = 65 + random.Next(5000);
        var nest = new string('[', depth) + new string(']', depth);
        var body = random.Next(2) == 0
            ? Valid(id).ToJsonString().Replace("\"maxAttempts\":1", $"\"maxAttempts\":1,\"payload\":{nest}")
            : nest;
        return Post($"nesting {depth}", Json(body), id);
    }

    BadRequest Huge(string id)
    {
        var size = 300_000 + random.Next(700_000);
        var body = Valid(id);
        body["payload"] = new string('h', size);
        var huge = Post($"huge {size}", Json(body.ToJsonString()), id);
        // As HTTP has a client send a large body: the gateway refuses it before a byte of it is sent. Without
        // 100-continue the gateway answers the same 413, but closes the connection while the client is still
        // writing, and the client may fail to read the answer.
        huge.Request.Headers.ExpectContinue = true;
        return huge;
    }

    BadRequest BadHeaders(string id)
    {
        var json = Valid(id).ToJsonString();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var what = random.Next(9);
        switch (what)
        {
            case 0:
                request.Content.Headers.ContentType = null;
                break;
            case 1:
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(Pick("text/plain", "application/xml", "multipart/form-data", "application/x-www-form-urlencoded"));
                break;
            case 2:
                request.Content.Headers.Remove("Content-Type");
                request.Content.Headers.TryAddWithoutValidation("Content-Type", Pick("application/json; charset=ebcdic-xx", "application/json; charset=\"\"", "json", ";;;"));
                break;
            case 3:
                request.Headers.Authorization = null;
                break;
            case 4:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Text(random.Next(1, 300)));
                break;
            case 5:
                request.Headers.Authorization = new AuthenticationHeaderValue(Pick("Basic", "Token", "bearer"), Pick(Key + "x", "", Text(20)));
                break;
            case 6:
                request.Headers.Authorization = null;
                request.Headers.TryAddWithoutValidation("X-Api-Key", Pick(Text(5000), "dev-admin-key-012345678", " "));
                break;
            case 7:
                request.Method = Pick(HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch);
                break;
            default:
                request.RequestUri = new Uri(Pick("/api/v1/jobs/not-a-guid", "/api/v1/job", "/api/v2/jobs"), UriKind.Relative);
                break;
        }
        return new BadRequest($"header {what}", request, id, $"{request.Method} {request.RequestUri} {request.Content?.Headers.ContentType} auth={request.Headers.Authorization?.Scheme}");
    }

    BadRequest BadQuery()
    {
        var cursorBytes = new byte[1 + random.Next(60)];
        random.NextBytes(cursorBytes);
        var query = random.Next(6) switch
        {
            0 => "limit=" + Pick("abc", "0", "-1", "501", "1.5", "99999999999999999999", "", "1e3", "%00", "1&limit=2"),
            1 => "cursor=" + Uri.EscapeDataString(Convert.ToBase64String(cursorBytes)),
            2 => "cursor=" + Uri.EscapeDataString(Pick("!!!", "%", "====", Text(200), Convert.ToBase64String(Encoding.UTF8.GetBytes($"{random.NextInt64()}{random.NextInt64()}:{Guid.NewGuid()}")))),
            3 => "state=" + Uri.EscapeDataString(Pick("pending", "Sleeping", "", "Pending\n", Text(300))),
            4 => "service=" + Uri.EscapeDataString(Pick("Shell", "shell\n", "", new string('s', 65), "a b")),
            _ => "limit=" + Uri.EscapeDataString(Text(3, "0123456789abc-.")) + "x&cursor=%ZZ",
        };
        var path = random.Next(4) == 0
            ? Pick($"/api/v1/jobs/{Guid.NewGuid()}", $"/api/v1/jobs/{Guid.NewGuid()}/cancel", "/api/v1/jobs/12345", "/api/v1/sagas/not-a-guid")
            : "/api/v1/jobs?" + query;
        var request = new HttpRequestMessage(path.EndsWith("/cancel") ? HttpMethod.Post : HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Pick(Key, RunningSystem.UserKey));
        return new BadRequest("query", request, null, path);
    }

    static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    static BadRequest Post(string kind, HttpContent content, string? requestId)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs") { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        var text = content is StringContent ? content.ReadAsStringAsync().Result : "(bytes)";
        return new BadRequest(kind, request, requestId, text.Length > 300 ? text[..300] + $"... ({text.Length} chars)" : text);
    }
}
