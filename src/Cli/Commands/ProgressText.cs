using System.Globalization;
using Lantern.Contracts.Api;

namespace Lantern.Cli.Commands;

/// <summary>What the progress bar says about a job: evaluations done of all, the recent rate and the time left at it.</summary>
public static class ProgressText
{
    /// <summary>The bar's value and maximum: evaluations when the job says how many it runs, else work items.</summary>
    public static (double Value, double Max) Bar(JobProgress progress) => progress.EvaluationsTotal > 0
        ? (Math.Min(progress.Evaluations, progress.EvaluationsTotal), progress.EvaluationsTotal)
        : (progress.ItemsDone, Math.Max(1, progress.ItemsTotal));

    public static string Describe(JobProgress progress)
    {
        var c = CultureInfo.InvariantCulture;
        var text = progress.State.ToString().ToLowerInvariant();
        if (progress.ImagesTotal > 0)
            text += string.Format(c, " · {0:N0}/{1:N0} images", progress.ImagesDone, progress.ImagesTotal)
                    + (progress.ImagesFailed > 0 ? string.Format(c, " ({0:N0} failed)", progress.ImagesFailed) : "");
        text += progress.EvaluationsTotal > 0
            ? string.Format(c, " · {0:N0}/{1:N0} evaluations", progress.Evaluations, progress.EvaluationsTotal)
            : string.Format(c, " · {0:N0} evaluations", progress.Evaluations);
        if (progress.EvaluationsPerSecond > 0)
            text += string.Format(c, progress.EvaluationsPerSecond >= 100 ? " · {0:N0}/s" : " · {0:0.0}/s", progress.EvaluationsPerSecond);
        if (progress.HasSecondsLeft && progress.State == JobState.Running) text += " · " + Duration(progress.SecondsLeft) + " left";
        return text;
    }

    /// <summary>"42 s", "3 min 05 s", "2 h 07 min".</summary>
    public static string Duration(double seconds)
    {
        var s = (long)Math.Ceiling(Math.Max(0, seconds));
        return s < 60 ? $"{s} s" : s < 3600 ? $"{s / 60} min {s % 60:00} s" : $"{s / 3600} h {s % 3600 / 60:00} min";
    }
}
