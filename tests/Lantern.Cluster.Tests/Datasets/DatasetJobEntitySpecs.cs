using Akka.Actor;
using Akka.TestKit;
using Lantern.Contracts.Cluster;
using Lantern.Contracts.Messages;
using Lantern.Coordinator.DatasetJobs;
using Lantern.Coordinator.Hosting;

namespace Lantern.Cluster.Tests.Datasets;

/// <summary>The dataset-job entity alone, with a probe standing in for the image jobs' region, so a slow answer can be staged.</summary>
public sealed class DatasetJobEntitySpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);

    private readonly TestProbe _jobs;

    public DatasetJobEntitySpecs() => _jobs = CreateTestProbe("job-region");

    [Fact]
    public void An_image_job_whose_start_was_answered_too_late_is_cancelled_with_its_dataset_job()
    {
        const string jobId = "dataset-a";
        var entity = Sys.ActorOf(DatasetJobEntity.PropsFor(jobId, _jobs.Ref, CreateTestProbe("index").Ref, new EchoPlanner(),
            new CoordinatorOptions { DatasetAskTimeout = AskTimeout, DatasetPollInterval = TimeSpan.FromMinutes(10) }));
        entity.Tell(new StartDatasetJob
        {
            JobId = jobId, Template = new JobSpec { Name = "template" }, Dataset = "d",
            Images = { new DatasetImage { ImageSha256 = "aa", FileName = "a.png" } },
        });
        ExpectMsg<JobStatusResult>(Soon);

        // The image's job is started but its answer is lost (a loaded coordinator): the entity's ask times out after
        // the dataset job has been cancelled, so it cannot know whether the image's job exists.
        var start = _jobs.ExpectMsg<StartJob>(Soon);
        Assert.Equal(JobIds.ImageJob(jobId, 0), start.JobId);
        entity.Tell(new CancelJob { JobId = jobId });
        ExpectMsg<JobStatusResult>(Soon);

        var cancel = _jobs.FishForMessage<CancelJob>(_ => true, Soon);
        Assert.Equal(start.JobId, cancel.JobId);
    }

    private sealed class EchoPlanner : IDatasetImagePlanner
    {
        public Task<JobSpec> PlanAsync(JobSpec template, DatasetImage image, string imageJobId, CancellationToken cancellationToken) =>
            Task.FromResult(new JobSpec(template) { Name = image.FileName });
    }
}
