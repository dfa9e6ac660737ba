using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Lantern.Cluster.Tests.Clients;

/// <summary>
/// The viewer in a real browser (Debian's headless chromium through chromium-driver; .ci/run installs both): what a
/// person sees on the job page. Screenshots go to TestResults/viewer-*.png.
/// </summary>
public sealed class ViewerBrowserTests
{
    private const int Size = 48;

    // Draws the overlay into a canvas and counts its distinct colours: a blank or broken picture has one (or none).
    private const string DistinctColours = """
        const img = document.querySelector('img.overlay');
        if (!img || !img.complete || img.naturalWidth === 0) return -1;
        const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data; const seen = new Set();
        for (let i = 0; i < d.length; i += 4) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        return seen.size;
        """;

    [Fact]
    public async Task The_job_page_shows_a_non_blank_overlay_and_the_colour_map_switch_changes_it()
    {
        await using var node = await ViewerNode.StartAsync();
        using var client = node.Client();
        var result = await client.RunAsync(new SubmitJobRequest
        {
            Preprocessing = TestJobs.Identity(Size, Size), Targets = new Targets { Classes = { 0 } },
            Occlusion = TestJobs.Occlusion((12, 6)), Name = "noise.png", Labels = { "bright square", "the rest" },
        }, SyntheticModels.SquareBrightness(Size, Size, (8, 8, 12, 12)), "m.onnx", TestImages.Noise(Size, Size), "noise.png", _ => { });
        var page = new Uri(node.HttpAddress, $"/viewer/jobs/{result.Progress.JobId}");

        using var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        using var browser = Chromium(service);
        var wait = new WebDriverWait(browser, TimeSpan.FromMinutes(1));
        // Apply reloads the page: an element found just before the reload is stale when read, so the wait looks again.
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException));
        var screenshots = Directory.CreateDirectory(Path.Combine(RepositoryRoot(), "TestResults")).FullName;

        browser.Navigate().GoToUrl(page);
        var colours = OverlayColours(wait);
        Assert.True(colours > 10, $"the overlay shows {colours} colours: blank");
        var overlay = browser.FindElement(By.CssSelector("img.overlay"));
        var width = Convert.ToInt64(overlay.GetDomProperty("naturalWidth"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(width > Size, $"the overlay is {width} px wide: no room for the colour bar beside the {Size} px image");
        Assert.Contains("bright square", browser.PageSource); // the title's label
        ((ITakesScreenshot)browser).GetScreenshot().SaveAsFile(Path.Combine(screenshots, "viewer-job.png"));
        var before = overlay.GetDomProperty("src");

        ((IJavaScriptExecutor)browser).ExecuteScript("document.querySelector('select[name=colormap]').value = 'viridis'");
        browser.FindElement(By.Id("apply")).Click();
        wait.Until(d => d.FindElement(By.CssSelector("img.overlay")).GetDomProperty("src")!.Contains("viridis", StringComparison.Ordinal));
        var afterColours = OverlayColours(wait);
        Assert.True(afterColours > 10, "the viridis overlay is blank");
        Assert.NotEqual(before, browser.FindElement(By.CssSelector("img.overlay")).GetDomProperty("src"));
        ((ITakesScreenshot)browser).GetScreenshot().SaveAsFile(Path.Combine(screenshots, "viewer-job-viridis.png"));

        browser.Navigate().GoToUrl(new Uri(node.HttpAddress, "/viewer/jobs/0123456789abcdef"));
        Assert.Contains("Not found", browser.Title);
    }

    [Fact]
    public async Task The_page_of_a_running_job_refreshes_itself_and_its_progress_moves_until_it_is_cancelled()
    {
        await using var node = await ViewerNode.StartAsync();
        // 1-pixel windows over a 448x448 image: 200,705 evaluations, minutes of work, so the job is still running
        // while the page is watched; it is cancelled at the end.
        const int Large = 448;
        using var client = node.Client();
        var model = await client.UploadModelAsync(SyntheticModels.SquareBrightness(Large, Large, (50, 50, 100, 100)), "square.onnx");
        var image = await client.UploadImageAsync(TestImages.Noise(Large, Large), "noise.png");
        var jobId = (await client.Api.SubmitJobAsync(new SubmitJobRequest
        {
            ModelSha256 = model.Sha256, ImageSha256 = image.Sha256, Preprocessing = TestJobs.Identity(Large, Large),
            Targets = new Targets { Classes = { 0 } }, Occlusion = TestJobs.Occlusion((1, 1)), Name = "large.png",
        })).JobId;

        using var service = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
        using var browser = Chromium(service);
        var wait = new WebDriverWait(browser, TimeSpan.FromMinutes(2));
        // A script sent just as the page unloads for its reload fails ("document unloaded"): the wait reads again.
        wait.IgnoreExceptionTypes(typeof(JavaScriptException));
        browser.Navigate().GoToUrl(new Uri(node.HttpAddress, $"/viewer/jobs/{jobId}"));
        var first = wait.Until(d => ReadJobPage(d) is { Value: > 0 } p ? p : null)!;
        Assert.True(first.Value < first.Max, $"the job had finished ({first.Value} of {first.Max}) before its page was watched");
        // Nobody touches the page: it reloads itself while the job runs, and each load shows the job's progress then.
        var later = wait.Until(d => ReadJobPage(d) is { } p && p.Value > first.Value ? p : null)!;
        Assert.Equal("running", later.State);

        await client.Api.CancelJobAsync(new CancelJobRequest { JobId = jobId });
        wait.Until(d => ReadJobPage(d) is { State: "cancelled" });
    }

    /// <summary>The job's state and progress bar as one load of its page shows them.</summary>
    private sealed record JobPage(string State, long Value, long Max);

    // One script reads one document, so the page reloading itself (every 2 s while the job runs) can neither make an
    // element stale between finding and reading it nor pair one load's state with another's progress.
    private const string StateAndProgress = """
        const state = document.getElementById('state'); const bar = document.querySelector('progress');
        return state && bar ? [state.textContent.trim(), bar.getAttribute('value'), bar.getAttribute('max')] : null;
        """;

    /// <summary>The job page now, or null while a reload is under way.</summary>
    private static JobPage? ReadJobPage(IWebDriver browser) =>
        ((IJavaScriptExecutor)browser).ExecuteScript(StateAndProgress) is IReadOnlyCollection<object> { Count: 3 } read
            && read.Select(o => o.ToString()!).ToArray() is [var state, var value, var max]
            ? new JobPage(state, Number(value), Number(max))
            : null;

    private static long Number(string text) => long.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    private static ChromeDriver Chromium(ChromeDriverService service)
    {
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900");
        return new ChromeDriver(service, options, TimeSpan.FromMinutes(2));
    }

    /// <summary>Waits until the overlay has loaded, then returns its number of distinct colours.</summary>
    private static long OverlayColours(WebDriverWait wait) =>
        (long)wait.Until(d => ((IJavaScriptExecutor)d).ExecuteScript(DistinctColours) is long n && n >= 0 ? (object)n : null)!;

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Cluster.sln above {AppContext.BaseDirectory}");
    }
}
