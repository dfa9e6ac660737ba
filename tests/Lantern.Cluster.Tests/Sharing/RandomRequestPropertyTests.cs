using FsCheck;
using FsCheck.Fluent;
using Grpc.Core;
using Lantern.Cli.Client;
using Lantern.Cluster.Tests.Support;
using Lantern.Cluster.Tests.Synthetic;
using Lantern.Contracts.Api;
using ApiJobState = Lantern.Contracts.Api.JobState;

namespace Lantern.Cluster.Tests.Sharing;

/// <summary>One change to a valid request: which field, and the value put there.</summary>
public sealed record Mutation(int Field, int Number, float Real, string Text)
{
    public const int Fields = 27;
}

/// <summary>
/// FsCheck sends random mutations of a valid request over gRPC, as one user, while another user's job runs on the same
/// node: every answer is a status from the allowed set (never INTERNAL, UNKNOWN or UNAVAILABLE), the node never
/// falls over, and the other user's job ends with a map bit-identical to the one it gives alone.
/// </summary>
public sealed class RandomRequestPropertyTests(SharedNodeFixture fixture) : IClassFixture<SharedNodeFixture>
{
    private const int Cases = 60;
    private const int VictimSize = 48;

    private static readonly StatusCode[] Allowed =
    [
        StatusCode.OK, StatusCode.InvalidArgument, StatusCode.NotFound, StatusCode.ResourceExhausted,
        StatusCode.FailedPrecondition, StatusCode.PermissionDenied, StatusCode.Unauthenticated, StatusCode.OutOfRange,
    ];

    private static readonly int[] Integers = [-1, 0, 1, 2, 3, 7, 8, 9, 100, 1000, 100_000, int.MaxValue, int.MinValue];
    private static readonly float[] Reals =
        [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -1, 0, 0.25f, 0.5f, 1, 255, 256, 1e30f, -1e-30f];
    private static readonly string[] Texts =
        ["", "x", "rgb", "bgr", "stretch", "gradcam", "saliency", "lime", new string('0', 64), new string('F', 64), "../../etc/passwd",
         new string('z', 5000), "ünïcödé", "\0"];

    private static Arbitrary<Mutation[]> Mutations()
    {
        var number = Gen.OneOf(Gen.Elements(Integers), Gen.Choose(-10, 300));
        var real = Gen.OneOf(Gen.Elements(Reals), Gen.Choose(-1000, 1000).Select(i => i / 10f));
        var mutation =
            from field in Gen.Choose(0, Mutation.Fields - 1)
            from n in number
            from r in real
            from t in Gen.Elements(Texts)
            select new Mutation(field, n, r, t);
        return Gen.Choose(1, 3).SelectMany(count => Gen.ArrayOf(mutation, count)).ToArbitrary();
    }

    [Fact]
    public async Task Random_mutations_of_valid_requests_get_allowed_statuses_and_another_users_running_job_is_unaffected()
    {
        // The other user's job, alone first, for its reference map.
        var victim = await VictimRequestAsync();
        var reference = await RunAsync(fixture.Alice, victim);

        using var fuzzer = await fixture.AddAsync("fuzzer", "fuzzers");
        await fixture.Root.Admin.SetQuotaAsync(new SetQuotaRequest
        {
            Name = "fuzzer", Quotas = { new Quota { Name = "evaluations_per_job", Value = 2_000 } },
        });
        var model = (await fuzzer.UploadModelAsync(fixture.Model, "m.onnx")).Sha256;
        var image = (await fuzzer.UploadImageAsync(fixture.Image, "i.png")).Sha256;

        var running = (await fixture.Alice.Api.SubmitJobAsync(victim)).JobId;
        var answers = new Dictionary<StatusCode, int>();
        var property = Prop.ForAll(Mutations(), mutations =>
        {
            var code = SendAsync(fuzzer, Mutate(model, image, mutations)).GetAwaiter().GetResult();
            answers[code] = answers.GetValueOrDefault(code) + 1;
            return Allowed.Contains(code);
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Cases).WithQuietOnSuccess(true), property);

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        Assert.Equal(ApiJobState.Done, (await fixture.Alice.WatchAsync(running, _ => { }, timeout.Token)).State);
        var after = await fixture.Alice.Api.GetResultAsync(new GetResultRequest { JobId = running });
        Assert.Equal(reference.Maps.Select(m => m.Data), after.Maps.Select(m => m.Data)); // bit for bit
        Assert.Equal(Cases, answers.Values.Sum());
        Assert.True(answers.Keys.Count > 1, $"every mutation got the same answer: {string.Join(", ", answers)}");
    }

    private async Task<SubmitJobRequest> VictimRequestAsync() => new()
    {
        ModelSha256 = (await fixture.Alice.UploadModelAsync(
            SyntheticModels.SquareBrightness(VictimSize, VictimSize, (10, 10, 20, 20)), "victim.onnx")).Sha256,
        ImageSha256 = (await fixture.Alice.UploadImageAsync(TestImages.Noise(VictimSize, VictimSize, seed: 77), "victim.png")).Sha256,
        Preprocessing = TestJobs.Identity(VictimSize, VictimSize),
        Targets = new Targets { Classes = { 0 } },
        Occlusion = TestJobs.Occlusion((1, 1), (2, 1)),
        NoCache = true, // the second run must compute, not reuse the first one's result
    };

    private static async Task<JobResult> RunAsync(ExplainClient client, SubmitJobRequest request)
    {
        var jobId = (await client.Api.SubmitJobAsync(request)).JobId;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        Assert.Equal(ApiJobState.Done, (await client.WatchAsync(jobId, _ => { }, timeout.Token)).State);
        return await client.Api.GetResultAsync(new GetResultRequest { JobId = jobId });
    }

    /// <summary>The mutated request, or for the job-id field a lookup of a random id; an accepted job is cancelled at once.</summary>
    private static async Task<StatusCode> SendAsync(ExplainClient client, (SubmitJobRequest Request, string? JobId) call)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        try
        {
            if (call.JobId is { } id)
            {
                await client.Api.GetResultAsync(new GetResultRequest { JobId = id }, deadline: deadline);
                return StatusCode.OK;
            }
            var jobId = (await client.Api.SubmitJobAsync(call.Request, deadline: deadline)).JobId;
            await client.Api.CancelJobAsync(new CancelJobRequest { JobId = jobId }, deadline: deadline);
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    private static (SubmitJobRequest Request, string? JobId) Mutate(string model, string image, Mutation[] mutations)
    {
        var r = new SubmitJobRequest
        {
            ModelSha256 = model, ImageSha256 = image,
            Preprocessing = TestJobs.Identity(SharedNodeFixture.Size, SharedNodeFixture.Size),
            Targets = new Targets { Classes = { 0 } },
            Occlusion = TestJobs.Occlusion((2, 2)),
        };
        string? jobId = null;
        foreach (var (field, n, x, text) in mutations)
        {
            var window = r.Occlusion?.Windows.FirstOrDefault();
            switch (field)
            {
                case 0 when window is not null: window.Height = n; break;
                case 1 when window is not null: window.Width = n; break;
                case 2 when window is not null: window.StrideY = n; break;
                case 3 when window is not null: window.StrideX = n; break;
                case 4: r.Targets.Classes.Add(n); break;
                case 5: r.Targets = new Targets { TopK = n }; break;
                case 6: r.Preprocessing.Width = n; break;
                case 7: r.Preprocessing.Height = n; break;
                case 8: r.Preprocessing.Mean[Math.Abs(n % 3)] = x; break;
                case 9: r.Preprocessing.Std[Math.Abs(n % 3)] = x; break;
                case 10: r.Preprocessing.Scale = x; break;
                case 11 when r.Occlusion is not null: r.Occlusion.Fill = new Fill { Kind = Fill.Types.Kind.Constant, R = x, G = x, B = 0 }; break;
                case 12 when r.Occlusion is not null: r.Occlusion.Fill = new Fill { Kind = Fill.Types.Kind.Blur, BlurSigma = x }; break;
                case 13: r.ModelSha256 = text; break;
                case 14: r.ImageSha256 = text; break;
                case 15: r.ClearMethod(); break;
                case 16: r.Lime = new LimeOptions { Samples = n, Segmentation = new Contracts.Api.Segmentation { Method = "grid", Segments = 4 } }; break;
                case 17: r.Rise = new RiseOptions { Samples = n, Cells = n % 10, Density = x }; break;
                case 18: r.Gradient = new GradientOptions { Method = text, Steps = n }; break;
                case 19: r.Preprocessing.Resize = text; break;
                case 20: r.Preprocessing.ChannelOrder = text; break;
                case 21 when r.Occlusion is not null:
                    r.Occlusion.Windows.Add(new Window { Height = 4, Width = 4, StrideY = 2, StrideX = 2 });
                    r.Occlusion.CoarseToFine = true;
                    r.Occlusion.RefineThreshold = x;
                    break;
                case 22 when r.Occlusion is not null: r.Occlusion.Windows.Add(new Window { Height = n, Width = n % 9, StrideY = 1, StrideX = n }); break;
                case 23: r.RequestId = text; break;
                case 24: r.Seed = unchecked((ulong)n); break;
                case 25: r.KernelShap = new KernelShapOptions { Samples = n, Hide = new Fill { Kind = Fill.Types.Kind.Constant, R = x } }; break;
                case 26: jobId = text; break;
                default: r.Name = text; break;
            }
        }
        return (r, jobId);
    }
}
