using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Bus.TtsServer;

/// <summary>What the worker's http executor POSTs (docs/model-services.md); the payload is <c>{"text": "..."}</c>.</summary>
public sealed record SynthesizeRequest(Guid JobId, int Attempt, string? Service, string? Language, DateTimeOffset? Deadline, JsonElement? Payload);

/// <summary>The job's result: where the audio is, how long it lasts, and the audio itself when it is small.</summary>
/// <param name="Wav">The WAV file's absolute path on this host.</param>
/// <param name="AudioBase64">The WAV file itself, base64, when at most <c>Tts:InlineAudioMaxBytes</c>; else null.</param>
public sealed record SynthesizeResult(string Language, double DurationSeconds, int SampleRate, int Channels, long Bytes, string Wav, string? AudioBase64);

/// <summary>The documented model-not-available answer, sent with 503.</summary>
public sealed record ModelNotAvailable(string Language, string Detail)
{
    public string Error => "MODEL_NOT_AVAILABLE";
}

/// <summary><c>POST /synthesize</c>: validates, answers model-not-available for a language it has no voice for, else speaks.</summary>
public static partial class SynthesizeEndpoint
{
    public static async Task<Results<Ok<SynthesizeResult>, JsonHttpResult<ModelNotAvailable>, ValidationProblem>> Handle(
        SynthesizeRequest request, Espeak espeak, IOptions<TtsOptions> options, ILogger<SynthesizeRequest> logger, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var language = string.IsNullOrEmpty(request.Language) ? settings.DefaultLanguage : request.Language;
        var errors = new Dictionary<string, string[]>();
        if (!LanguagePattern().IsMatch(language))
            errors["language"] = ["language must be 1 to 32 letters, digits or '-', starting with a letter."];
        string? text = null;
        if (request.Payload is not { ValueKind: JsonValueKind.Object } payload
            || !payload.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String
            || string.IsNullOrWhiteSpace(text = value.GetString()))
            errors["payload.text"] = ["payload.text is required: the text to speak."];
        else if (text.Length > settings.MaxTextLength)
            errors["payload.text"] = [$"payload.text must be at most {settings.MaxTextLength} characters."];
        if (request.JobId == Guid.Empty || request.Attempt < 1)
            errors["jobId"] = ["jobId and attempt are required (the worker sends them)."];
        if (errors.Count > 0)
            return TypedResults.ValidationProblem(errors);

        if (!espeak.Languages.Contains(language))
            return TypedResults.Json(new ModelNotAvailable(language, $"this server has no voice for language '{language}'"),
                statusCode: StatusCodes.Status503ServiceUnavailable);

        var path = Path.Combine(settings.ResultsDirectory, $"{request.JobId:N}-{request.Attempt}.wav");
        await espeak.Synthesize(language, text!, path, cancellationToken);
        var wav = WavFile.Read(path);
        logger.LogInformation("Job {JobId} attempt {Attempt}: {Seconds:0.00} s of {Language} speech in {Path}",
            request.JobId, request.Attempt, wav.DurationSeconds, language, path);
        return TypedResults.Ok(new SynthesizeResult(language, Math.Round(wav.DurationSeconds, 3), wav.SampleRate, wav.Channels,
            wav.FileBytes, path, wav.FileBytes <= settings.InlineAudioMaxBytes ? Convert.ToBase64String(await File.ReadAllBytesAsync(path, CancellationToken.None)) : null));
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9-]{0,31}$")]
    private static partial Regex LanguagePattern();
}
