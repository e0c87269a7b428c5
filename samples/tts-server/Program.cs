using Bus.TtsServer;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddOptions<TtsOptions>()
    .BindConfiguration(TtsOptions.Section)
    .Validate(o => Path.IsPathRooted(o.ResultsDirectory), "Tts:ResultsDirectory must be an absolute path")
    .Validate(o => o.MaxTextLength >= 1 && o.InlineAudioMaxBytes >= 0, "Tts:MaxTextLength must be at least 1, Tts:InlineAudioMaxBytes at least 0")
    .ValidateOnStart();
builder.Services.AddSingleton<Espeak>();
builder.Services.AddProblemDetails();
var app = builder.Build();
_ = app.Services.GetRequiredService<Espeak>(); // lists espeak-ng's voices now: a missing espeak-ng stops the start, not the first job
app.MapPost("/synthesize", SynthesizeEndpoint.Handle);
app.MapGet("/languages", (Espeak espeak) => espeak.Languages.Order());
app.Run();
