namespace Lantern.Contracts.Messages;

// Marker interfaces for the dataset-job messages (dataset_job.proto): shard routing and serializer binding.

public sealed partial class StartDatasetJob : IJobCommand;
public sealed partial class DatasetJobResultReply : ILanternMessage;

/// <summary>Events the dataset-job entity persists.</summary>
public interface IDatasetJobEvent : ILanternMessage;

public sealed partial class DatasetJobAccepted : IDatasetJobEvent;
public sealed partial class DatasetImageFinished : IDatasetJobEvent;
public sealed partial class DatasetJobFinished : IDatasetJobEvent;
public sealed partial class DatasetJobCancelled : IDatasetJobEvent;
public sealed partial class DatasetJobDeleted : IDatasetJobEvent;

/// <summary>Job ids: a dataset job's starts with <see cref="DatasetPrefix"/> (plain ids are hexadecimal, so never do).</summary>
public static class JobIds
{
    public const string DatasetPrefix = "ds";

    public static bool IsDatasetJob(string jobId) => jobId.StartsWith(DatasetPrefix, StringComparison.Ordinal);

    /// <summary>The job that explains image <paramref name="index"/> of a dataset job: derived, so a restart finds it again.</summary>
    public static string ImageJob(string datasetJobId, int index) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{datasetJobId}/image/{index}")))[..32];
}
