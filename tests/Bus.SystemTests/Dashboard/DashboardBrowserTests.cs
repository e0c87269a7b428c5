using System.Text.RegularExpressions;
using Bus.SystemTests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Bus.SystemTests.Dashboard;

/// <summary>
/// The dashboard in a real browser: Debian's Chromium (infra/browser.sh installs it) driven by Playwright, against
/// the whole running system. Every wait is one of Playwright's assertions with a deadline. Screenshots go to
/// <c>screenshots/</c> in the test results folder.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardBrowserTests(DashboardSystem dashboard) : IAsyncLifetime
{
    /// <summary>Where infra/browser.sh puts Chromium; Playwright's own download cannot work on this machine.</summary>
    const string Chromium = "/usr/bin/chromium";

    static readonly LocatorAssertionsToHaveTextOptions Job = new() { Timeout = 60_000 };
    static readonly LocatorAssertionsToBeVisibleOptions Shown = new() { Timeout = 30_000 };

    RunningSystem System => dashboard.System;
    IPlaywright _playwright = null!;
    IBrowser _browser = null!;
    readonly List<string> _pageErrors = [];

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run infra/browser.sh install (./bus test does)");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // The tests run as root, where Chromium's own sandbox cannot start.
            Args = ["--no-sandbox"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    [Fact]
    public async Task An_operator_signs_in_watches_a_job_finish_opens_it_cancels_another_and_sees_the_charts()
    {
        var page = await NewPage(1400, 900);

        // Signs in.
        await page.GotoAsync(System.BaseAddress.ToString());
        await page.Locator("#key").FillAsync(RunningSystem.AdminKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.Locator("#caller")).ToHaveTextAsync("dev · admin", new() { Timeout = 30_000 });
        await Expect(page.Locator("#live")).ToHaveTextAsync("live", new() { Timeout = 30_000 });

        // A job submitted through the API appears in the list and finishes there, with no reload.
        await page.Locator("#nav a[data-view=jobs]").ClickAsync();
        await Expect(page.Locator("#jobs")).ToBeVisibleAsync(Shown);
        var done = await SubmitJob(["/bin/sh", "-c", "sleep 1; echo hello from the dashboard test"]);
        var row = page.Locator($"#jobs tr[data-job-id='{done}']");
        await Expect(row).ToBeVisibleAsync(Shown);
        await Expect(row.Locator(".state")).ToHaveTextAsync("Completed", Job);
        await Screenshot(page, "jobs-1400");

        // Its detail: state, output and the history of its transitions.
        await row.ClickAsync();
        await Expect(page.Locator("#job-title")).ToHaveTextAsync(done, Job);
        await Expect(page.Locator("#job-state")).ToHaveTextAsync("Completed", Job);
        await Expect(page.Locator("#job-output")).ToContainTextAsync("hello from the dashboard test", new() { Timeout = 60_000 });
        await Expect(page.Locator("#job-history li[data-state=Running]")).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        await Expect(page.Locator("#job-history li").Last).ToContainTextAsync("Completed");
        await Expect(page.Locator("#job-cancel")).ToBeHiddenAsync();
        await Screenshot(page, "job-completed-1400");

        // A running job cancelled from its page becomes Cancelled there.
        var running = await SubmitJob(["/bin/sleep", "300"]);
        await page.GotoAsync($"{System.BaseAddress}#/jobs/{running}");
        await Expect(page.Locator("#job-state")).ToHaveTextAsync("Running", Job);
        await page.Locator("#job-cancel").ClickAsync();
        await Expect(page.Locator("#job-state")).ToHaveTextAsync("Cancelled", Job);
        await Expect(page.Locator("#job-history li").Last).ToContainTextAsync("Cancelled");
        Assert.Equal("Cancelled", (string?)(await System.WaitForJob(running, "Cancelled"))["state"]);
        await Screenshot(page, "job-cancelled-1400");

        // The overview's charts have data: the completion the page saw live, and the snapshots' utilization.
        await page.Locator("#nav a[data-view=overview]").ClickAsync();
        await Expect(page.Locator("#chart-throughput")).ToHaveAttributeAsync("data-peak", new Regex("^(?!0$)[0-9]"), new() { Timeout = 30_000 });
        await Expect(page.Locator("#chart-utilization")).ToHaveAttributeAsync("data-points", new Regex("^[1-9]"), new() { Timeout = 30_000 });
        await Expect(page.Locator("#chart-throughput path.line")).ToHaveCountAsync(1);
        await Expect(page.Locator("#stat-workers")).ToHaveTextAsync("2", new() { Timeout = 30_000 });
        // The counts catch up with the stream: the cancelled job no longer runs.
        await Expect(page.Locator("#stat-running")).ToHaveTextAsync("0", new() { Timeout = 30_000 });
        await Expect(page.Locator("#states a:has(.badge.Cancelled) b")).ToHaveTextAsync("1", new() { Timeout = 30_000 });
        await Screenshot(page, "overview-1400");

        // Workers: both, with their bars, and Drain for an admin key.
        await page.Locator("#nav a[data-view=workers]").ClickAsync();
        await Expect(page.Locator("#workers article.worker")).ToHaveCountAsync(2, new() { Timeout = 30_000 });
        await Expect(page.Locator("#workers article[data-worker-id=worker-b] button.drain")).ToBeVisibleAsync();
        await Expect(page.Locator("#workers article[data-worker-id=worker-b] .gauge").First).ToContainTextAsync("/ 4");
        await Screenshot(page, "workers-1400");

        // The same views at 800 px: nothing wider than the window.
        await page.SetViewportSizeAsync(800, 1000);
        foreach (var (hash, name) in new[] { ("#/", "overview-800"), ("#/jobs", "jobs-800"), ("#/workers", "workers-800"), ($"#/jobs/{done}", "job-800") })
        {
            await page.GotoAsync($"{System.BaseAddress}{hash}");
            await Expect(page.Locator("#nav")).ToBeVisibleAsync(Shown);
            await Expect(page.Locator(".view:not([hidden])")).ToHaveCountAsync(1);
            var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
            Assert.True(overflow <= 0, $"{name}: the page is {overflow} px wider than the 800 px window");
            await Screenshot(page, name);
        }

        // A key that is not an admin's sees the workers, with no Drain.
        var user = await NewPage(1400, 900);
        await user.GotoAsync($"{System.BaseAddress}#/workers");
        await user.Locator("#key").FillAsync(RunningSystem.UserKey);
        await user.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(user.Locator("#caller")).ToHaveTextAsync("dev", new() { Timeout = 30_000 });
        await Expect(user.Locator("#workers article.worker")).ToHaveCountAsync(2, new() { Timeout = 30_000 });
        await Expect(user.Locator("#workers button.drain")).ToHaveCountAsync(0);

        Assert.True(_pageErrors.Count == 0, $"the page logged errors:\n{string.Join("\n", _pageErrors)}");
    }

    async Task<IPage> NewPage(int width, int height)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => _pageErrors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
                _pageErrors.Add($"{message.Text} ({message.Location})");
        };
        return page;
    }

    async Task<string> SubmitJob(string[] command)
    {
        var (_, accepted) = await System.Submit(new { requestId = $"dash-{Guid.NewGuid():N}", command });
        return (string)accepted["jobId"]!;
    }

    static async Task Screenshot(IPage page, string name)
    {
        var results = Environment.GetEnvironmentVariable("BUS_TEST_RESULTS") ?? Path.Combine(TestEnvironment.RepoRoot, ".state", "test-results");
        var folder = Path.Combine(results, "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"dashboard-{name}.png"), FullPage = true });
    }
}
