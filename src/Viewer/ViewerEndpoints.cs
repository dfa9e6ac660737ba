using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Lantern.Contracts.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lantern.Viewer;

/// <summary>
/// The web viewer: server-rendered pages under <c>/viewer</c> (jobs, one job, compare) and the pictures they show. Every
/// page calls the node's own gRPC API with the key the user entered (a session cookie) as <c>authorization: Bearer</c>,
/// so the viewer shows exactly what the API lets that key see. Live updates by polling (the page refreshes itself
/// while a job runs); no script, no build step.
/// </summary>
public static class ViewerEndpoints
{
    private const string KeyCookie = "lantern_key";
    private static readonly string[] Colormaps = ["", "jet", "viridis", "inferno", "gray", "rdwhgn", "bwr"];
    private static readonly string[] Signs = ["", "all", "positive", "negative", "absolute"];

    /// <param name="grpcAddress">The node's own gRPC address, read at the first request (the port is bound at start).</param>
    /// <param name="handler">How to reach it (a TLS port: trusting the node's own certificate); null: the default.</param>
    public static IEndpointRouteBuilder MapViewer(this IEndpointRouteBuilder endpoints, Func<Uri> grpcAddress, HttpMessageHandler? handler = null)
    {
        var channel = new Lazy<GrpcChannel>(() => GrpcChannel.ForAddress(grpcAddress(),
            new GrpcChannelOptions { MaxReceiveMessageSize = null, HttpHandler = handler }));
        Contracts.Api.Lantern.LanternClient Api() => new(channel.Value);

        var viewer = endpoints.MapGroup("/viewer");
        // (Delegate): a handler taking only HttpContext would otherwise bind as a RequestDelegate and drop its IResult.
        viewer.MapGet("/", (Delegate)((HttpContext http) => Page(http, () => JobsPage(Api(), http))));
        viewer.MapGet("/jobs/{id}", (HttpContext http, string id) => Page(http, () => JobPage(Api(), http, id)));
        viewer.MapGet("/compare", (Delegate)((HttpContext http) => Page(http, () => ComparePage(Api(), http))));
        viewer.MapGet("/jobs/{id}/overlay/{index:int}.png", (HttpContext http, string id, int index) =>
            File(http, async () =>
            {
                var result = await Result(Api(), http, id, overlays: true);
                var map = index >= 0 && index < result.Maps.Count ? result.Maps[index] : null;
                return map is null || map.OverlayPng.IsEmpty ? null : (map.OverlayPng.ToByteArray(), "image/png");
            }));
        viewer.MapGet("/jobs/{id}/files/{name}", (HttpContext http, string id, string name) =>
            File(http, async () =>
            {
                var result = await Result(Api(), http, id, overlays: name.EndsWith(".png", StringComparison.Ordinal));
                return Download(result, name);
            }));
        viewer.MapPost("/key", (Delegate)(async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync();
            var key = form["key"].ToString().Trim();
            if (key.Length == 0) http.Response.Cookies.Delete(KeyCookie);
            else http.Response.Cookies.Append(KeyCookie, key, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict });
            var back = form["back"].ToString();
            return Results.Redirect(back.StartsWith("/viewer", StringComparison.Ordinal) ? back : "/viewer/");
        }));
        return endpoints;
    }

    // ---- pages -------------------------------------------------------------------------------------------------------

    private static async Task<(string Title, string Body, bool Live)> JobsPage(Contracts.Api.Lantern.LanternClient api, HttpContext http)
    {
        var q = http.Request.Query;
        var request = new ListJobsRequest { PageSize = 25, PageToken = q["page"].ToString(), Owner = q["owner"].ToString() };
        if (Enum.TryParse<JobState>(q["state"].ToString(), true, out var state) && state != JobState.Unspecified) request.States.Add(state);
        var page = await api.ListJobsAsync(request, Headers(http), cancellationToken: http.RequestAborted);
        var html = new StringBuilder();
        html.Append("<form class=filter method=get action='/viewer/'>state <select name=state>");
        foreach (var s in new[] { "", "queued", "running", "done", "failed", "cancelled" })
            html.Append(CultureInfo.InvariantCulture, $"<option{(s == q["state"].ToString() ? " selected" : "")}>{s}</option>");
        html.Append(CultureInfo.InvariantCulture, $"</select> owner <input name=owner value='{E(q["owner"])}'> <button>filter</button></form>");
        html.Append("<form method=get action='/viewer/compare'><table id=jobs><tr><th></th><th></th><th>job</th><th>state</th><th>progress</th><th>method</th><th>model</th><th>owner</th><th>submitted</th></tr>");
        foreach (var job in page.Jobs)
        {
            var thumb = job.State == JobState.Done
                ? $"<img class=thumb src='/viewer/jobs/{E(job.JobId)}/overlay/0.png?plain=true' alt=''>"
                : "";
            html.Append(CultureInfo.InvariantCulture,
                $"<tr class='job {State(job.State)}'><td><input type=checkbox name=id value='{E(job.JobId)}'></td><td>{thumb}</td>" +
                $"<td><a href='/viewer/jobs/{E(job.JobId)}'>{E(job.Name.Length > 0 ? job.Name : job.JobId)}</a><br><small>{E(job.JobId)}</small></td>" +
                $"<td>{State(job.State)}</td><td>{Progress(job)}</td><td>{E(job.Method)}</td><td title='{E(job.ModelSha256)}'>{E(Short(job.ModelSha256))}</td>" +
                $"<td>{E(job.Owner)}</td><td>{Time(job.SubmittedUnixMs)}</td></tr>");
        }
        html.Append("</table><button>compare selected</button></form>");
        if (page.NextPageToken.Length > 0)
            html.Append(CultureInfo.InvariantCulture,
                $"<p><a id=next href='/viewer/?page={Uri.EscapeDataString(page.NextPageToken)}&state={E(q["state"])}&owner={E(q["owner"])}'>next page →</a></p>");
        var live = page.Jobs.Any(j => j.State is JobState.Queued or JobState.Running);
        return ("Jobs", html.ToString(), live);
    }

    private static async Task<(string Title, string Body, bool Live)> JobPage(Contracts.Api.Lantern.LanternClient api, HttpContext http, string id)
    {
        var job = await api.GetJobAsync(new GetJobRequest { JobId = id }, Headers(http), cancellationToken: http.RequestAborted);
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture,
            $"<p>{E(job.Method)} · <span id=state>{State(job.State)}</span> · {Progress(job)} · {job.Evaluations} of {job.EvaluationsTotal} evaluations" +
            $"{(job.HasSecondsLeft ? $" · {job.SecondsLeft:0} s left" : "")} · owner {E(job.Owner)} · submitted {Time(job.SubmittedUnixMs)}</p>");
        if (job.Error.Length > 0) html.Append(CultureInfo.InvariantCulture, $"<p class=error>{E(job.Error)}</p>");
        if (job.State != JobState.Done) return (JobTitle(job), html.ToString(), job.State is JobState.Queued or JobState.Running);

        var style = StyleQuery(http);
        var result = await Result(api, http, id, overlays: false);
        html.Append("<form id=style method=get>colour map <select name=colormap>");
        foreach (var c in Colormaps)
            html.Append(CultureInfo.InvariantCulture, $"<option value='{c}'{(c == http.Request.Query["colormap"].ToString() ? " selected" : "")}>{(c.Length == 0 ? "auto" : c)}</option>");
        html.Append("</select> sign <select name=sign>");
        foreach (var s in Signs)
            html.Append(CultureInfo.InvariantCulture, $"<option value='{s}'{(s == http.Request.Query["sign"].ToString() ? " selected" : "")}>{(s.Length == 0 ? "auto" : s)}</option>");
        html.Append(CultureInfo.InvariantCulture,
            $"</select> opacity <input type=number name=alpha min=0 max=1 step=0.1 value='{E(http.Request.Query["alpha"].ToString() is { Length: > 0 } a ? a : "0.5")}'> <button id=apply>apply</button></form>");
        html.Append("<div class=maps>");
        for (var i = 0; i < result.Maps.Count; i++)
        {
            var map = result.Maps[i];
            var caption = map.Kind == "mask" ? "LIME: top features (hide_rest)" : map.Window > 0 ? $"window {map.Window}" : map.Kind.Length > 0 ? map.Kind : "combined";
            html.Append(CultureInfo.InvariantCulture,
                $"<figure><img class=overlay src='/viewer/jobs/{E(id)}/overlay/{i}.png{style}' alt='{E(map.Label)}'><figcaption>{E(map.Label)} · class {map.TargetClass} · {E(caption)}</figcaption></figure>");
        }
        html.Append("</div>");
        using var summary = JsonDocument.Parse(result.SummaryJson.Length > 0 ? result.SummaryJson : "{}");
        AppendScaleSheets(html, id, result, style);
        AppendLayer(html, summary.RootElement);
        AppendTopFeatures(html, summary.RootElement, result);
        html.Append("<h2>Top classes</h2><table>");
        foreach (var c in result.TopClasses)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{c.ClassIndex}</td><td>{E(c.Label)}</td><td>{c.Score:0.000}</td></tr>");
        html.Append("</table><h2>Downloads</h2><p class=downloads><a href='files/summary.json'>summary.json</a>");
        foreach (var map in result.Maps)
        {
            var name = FileStem(map);
            html.Append(CultureInfo.InvariantCulture, $" · <a href='/viewer/jobs/{E(id)}/files/{E(name)}.npy'>{E(name)}.npy</a>");
        }
        html.Append("</p>");
        AppendParameters(html, summary.RootElement);
        html.Append("<h2>Summary</h2><pre>").Append(E(result.SummaryJson)).Append("</pre>");
        return (JobTitle(job), html.ToString().Replace("href='files/", $"href='/viewer/jobs/{E(id)}/files/"), false);
    }

    /// <summary>A multi-scale occlusion job: each target's sheet, every scale side by side and the combined map.</summary>
    private static void AppendScaleSheets(StringBuilder html, string id, JobResult result, string style)
    {
        var multiScale = result.Maps.Where(m => m.Kind.Length == 0).GroupBy(m => (m.TargetClass, m.Region)).Where(g => g.Count() > 1).ToList();
        if (multiScale.Count == 0) return;
        html.Append("<h2>Scales</h2><div class=maps>");
        foreach (var target in multiScale)
        {
            var (cls, region) = target.Key;
            var name = region == 0 ? $"sheet-{cls}.png" : $"sheet-{cls}-r{region}.png";
            html.Append(CultureInfo.InvariantCulture,
                $"<figure><img class=sheet src='/viewer/jobs/{E(id)}/files/{name}{style}' alt='{E(target.First().Label)}'>" +
                $"<figcaption>{E(target.First().Label)} · every window and the combined map</figcaption></figure>");
        }
        html.Append("</div>");
    }

    /// <summary>The layer a CAM method (Grad-CAM, Grad-CAM++, CAM, Score-CAM, activations) explained at.</summary>
    private static void AppendLayer(StringBuilder html, JsonElement summary)
    {
        if (!summary.TryGetProperty("parameters", out var parameters) || !parameters.TryGetProperty("layer", out var layer)) return;
        var shape = parameters.TryGetProperty("layer_shape", out var s) && s.ValueKind == JsonValueKind.Array
            ? $" ({string.Join("×", s.EnumerateArray().Select(d => d.GetInt32()))}: channels × height × width)"
            : "";
        html.Append(CultureInfo.InvariantCulture, $"<p id=layer>layer <code>{E(layer.ToString())}</code>{shape}</p>");
    }

    /// <summary>LIME's explanation as lime_image lists it: per target, the superpixels with the largest positive weights.</summary>
    private static void AppendTopFeatures(StringBuilder html, JsonElement summary, JobResult result)
    {
        if (!summary.TryGetProperty("per_target", out var perTarget) || perTarget.ValueKind != JsonValueKind.Array) return;
        var tables = new StringBuilder();
        foreach (var target in perTarget.EnumerateArray())
        {
            if (!target.TryGetProperty("selected_features", out var features) || !target.TryGetProperty("weights", out var weights)) continue;
            var cls = target.GetProperty("class").GetInt32();
            var label = result.Maps.FirstOrDefault(m => m.TargetClass == cls)?.Label ?? "";
            // weights has one entry per superpixel (zero for those not selected), indexed by the superpixel's number.
            var weightOf = weights.EnumerateArray().Select(w => w.GetDouble()).ToArray();
            var top = features.EnumerateArray().Select(f => f.GetInt32()).Where(f => f >= 0 && f < weightOf.Length)
                .Select(f => (Feature: f, Weight: weightOf[f])).Where(p => p.Weight > 0).OrderByDescending(p => p.Weight).ToList();
            tables.Append(CultureInfo.InvariantCulture, $"<table class=features><caption>{E(label)} · class {cls}</caption><tr><th>superpixel</th><th>weight</th></tr>");
            foreach (var (feature, weight) in top)
                tables.Append(CultureInfo.InvariantCulture, $"<tr><td>{feature}</td><td>{weight:0.0000}</td></tr>");
            if (top.Count == 0) tables.Append("<tr><td colspan=2>no superpixel raises this class</td></tr>");
            tables.Append("</table>");
        }
        if (tables.Length > 0) html.Append("<h2>Top positive features</h2><div class=maps>").Append(tables).Append("</div>");
    }

    /// <summary>The method's parameters as summary.json records them, one row each.</summary>
    private static void AppendParameters(StringBuilder html, JsonElement summary)
    {
        if (!summary.TryGetProperty("parameters", out var parameters) || parameters.ValueKind != JsonValueKind.Object) return;
        html.Append("<h2>Parameters</h2><table id=parameters>");
        foreach (var p in parameters.EnumerateObject())
            html.Append(CultureInfo.InvariantCulture, $"<tr><th>{E(p.Name)}</th><td>{E(p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText())}</td></tr>");
        html.Append("</table>");
    }

    private static async Task<(string Title, string Body, bool Live)> ComparePage(Contracts.Api.Lantern.LanternClient api, HttpContext http)
    {
        var ids = http.Request.Query["id"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
        var html = new StringBuilder("<div class=maps>");
        foreach (var id in ids)
        {
            var job = await api.GetJobAsync(new GetJobRequest { JobId = id }, Headers(http), cancellationToken: http.RequestAborted);
            html.Append(CultureInfo.InvariantCulture,
                $"<figure><img class=overlay src='/viewer/jobs/{E(id)}/overlay/0.png' alt=''><figcaption><a href='/viewer/jobs/{E(id)}'>{E(job.Method)}</a> · {E(job.Name)}</figcaption></figure>");
        }
        html.Append("</div>");
        return ("Compare", html.ToString(), false);
    }

    // ---- plumbing ----------------------------------------------------------------------------------------------------

    private static async Task<IResult> Page(HttpContext http, Func<Task<(string Title, string Body, bool Live)>> render)
    {
        try
        {
            var (title, body, live) = await render();
            return Html(http, title, body, live, HttpStatusCode.OK);
        }
        catch (RpcException e)
        {
            return Html(http, Status(e), $"<p class=error>{E(e.Status.Detail)}</p>", false, Code(e));
        }
    }

    private static async Task<IResult> File(HttpContext http, Func<Task<(byte[] Bytes, string Type)?>> fetch)
    {
        try
        {
            return await fetch() is { } file ? Results.File(file.Bytes, file.Type) : Results.NotFound();
        }
        catch (RpcException e)
        {
            return Results.Text(e.Status.Detail, statusCode: (int)Code(e));
        }
    }

    private static IResult Html(HttpContext http, string title, string body, bool live, HttpStatusCode status)
    {
        var key = http.Request.Cookies.ContainsKey(KeyCookie) ? "a key is set" : "no key";
        var page = $$"""
            <!doctype html><html><head><meta charset=utf-8><title>{{E(title)}} · Lantern</title>
            {{(live ? "<meta http-equiv=refresh content=2>" : "")}}
            <style>
            body{font-family:system-ui,sans-serif;margin:1.5em;color:#222} a{color:#0b5cad} table{border-collapse:collapse}
            td,th{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:left;vertical-align:middle} .thumb{height:48px}
            progress{width:8em} .maps{display:flex;flex-wrap:wrap;gap:1em} figure{margin:0} .overlay{max-width:560px;height:auto}
            .done{color:#197a31} .failed{color:#b00} .cancelled{color:#a60} header{display:flex;gap:2em;align-items:baseline}
            .error{color:#b00} .sheet{max-width:100%;height:auto} .features caption{text-align:left;font-weight:bold} pre{background:#f6f6f6;padding:1em;max-width:70em;overflow:auto}
            </style></head><body>
            <header><h1><a href='/viewer/'>Lantern</a> · {{E(title)}}</h1>
            <form method=post action='/viewer/key'>API key <input type=password name=key placeholder='{{key}}'>
            <input type=hidden name=back value='{{E(http.Request.Path + http.Request.QueryString)}}'><button>use</button></form></header>
            {{body}}
            </body></html>
            """;
        return Results.Content(page, "text/html; charset=utf-8", Encoding.UTF8, (int)status);
    }

    private static Metadata Headers(HttpContext http) =>
        http.Request.Cookies.TryGetValue(KeyCookie, out var key) && key.Length > 0
            ? new Metadata { { "authorization", $"Bearer {key}" } }
            : [];

    private static async Task<JobResult> Result(Contracts.Api.Lantern.LanternClient api, HttpContext http, string id, bool overlays)
    {
        var q = http.Request.Query;
        var style = new OverlayStyle { Colormap = q["colormap"].ToString(), Sign = q["sign"].ToString(), Plain = q["plain"] == "true" };
        if (float.TryParse(q["alpha"], NumberStyles.Float, CultureInfo.InvariantCulture, out var alpha)) style.Alpha = alpha;
        return await api.GetResultAsync(new GetResultRequest { JobId = id, IncludeOverlays = overlays, OverlayStyle = style },
            Headers(http), cancellationToken: http.RequestAborted);
    }

    private static (byte[] Bytes, string Type)? Download(JobResult result, string name)
    {
        if (name == "summary.json") return (Encoding.UTF8.GetBytes(result.SummaryJson), "application/json");
        foreach (var map in result.Maps)
        {
            if (name == FileStem(map) + ".npy") return (Npy(map), "application/octet-stream");
            if (name == "overlay-" + FileStem(map) + ".png" && !map.OverlayPng.IsEmpty) return (map.OverlayPng.ToByteArray(), "image/png");
        }
        foreach (var picture in result.Pictures)
            if (name == picture.Name) return (picture.Png.ToByteArray(), "image/png");
        return null;
    }

    /// <summary>numpy's .npy v1.0: the map's little-endian float32 bytes behind a header numpy.load reads.</summary>
    private static byte[] Npy(AttributionMap map)
    {
        var depth = map.Kind == "dream" ? ", 3" : ""; // a dream's data is RGB per pixel
        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({map.Height}, {map.Width}{depth}), }}";
        var total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.AddRange([1, 0, (byte)(header.Length & 0xff), (byte)(header.Length >> 8)]);
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        bytes.AddRange(map.Data.ToByteArray());
        return [.. bytes];
    }

    private static string FileStem(AttributionMap map)
    {
        var stem = map.Window > 0 ? $"{map.TargetClass}-w{map.Window}" : map.Region > 0 ? $"{map.TargetClass}-r{map.Region}" : $"{map.TargetClass}";
        return $"{(map.Kind.Length > 0 ? map.Kind : "map")}-{stem}";
    }

    private static string StyleQuery(HttpContext http)
    {
        var q = http.Request.Query;
        var parts = new[] { "colormap", "sign", "alpha" }.Where(k => q[k].ToString().Length > 0)
            .Select(k => $"{k}={Uri.EscapeDataString(q[k].ToString())}").ToList();
        return parts.Count == 0 ? "" : "?" + string.Join("&amp;", parts);
    }

    private static string JobTitle(JobProgress job) => job.Name.Length > 0 ? job.Name : job.JobId;

    private static string Progress(JobProgress job)
    {
        var total = Math.Max(1, job.ItemsTotal);
        return $"<progress max={total} value={Math.Min(job.ItemsDone, total)}></progress> {100.0 * job.ItemsDone / total:0}%";
    }

    private static string State(JobState state) => state.ToString().ToLowerInvariant();

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] : sha;

    private static string Time(long unixMs) => unixMs > 0
        ? DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)
        : "";

    private static string Status(RpcException e) => e.StatusCode switch
    {
        StatusCode.NotFound => "Not found",
        StatusCode.Unauthenticated => "Enter your API key",
        StatusCode.PermissionDenied => "Not yours to see",
        _ => "Error",
    };

    private static HttpStatusCode Code(RpcException e) => e.StatusCode switch
    {
        StatusCode.NotFound => HttpStatusCode.NotFound,
        StatusCode.Unauthenticated => HttpStatusCode.Unauthorized,
        StatusCode.PermissionDenied => HttpStatusCode.Forbidden,
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition => HttpStatusCode.BadRequest,
        _ => HttpStatusCode.BadGateway,
    };

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static string E(Microsoft.Extensions.Primitives.StringValues text) => E(text.ToString());
}
