using System.Text;

namespace Lantern.Cli.Datasets;

/// <summary>
/// What <c>lantern datasets create NAME DIR_OR_GLOB [--labels CSV]</c> reads on the user's machine: the image files, in
/// file-name order, and their labels from a CSV of <c>file name,label</c> rows.
/// </summary>
public static class DatasetSource
{
    /// <summary>What the gateway decodes; a directory contributes only these files.</summary>
    public static readonly IReadOnlySet<string> ImageExtensions =
        new HashSet<string>([".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"], StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A directory: its image files (not those of subdirectories). Otherwise a pattern whose last part may hold <c>*</c>
    /// and <c>?</c> (<c>photos/*.jpg</c>): the files it matches. Ordered by file name (ordinal), so the same files always
    /// make the same dataset.
    /// </summary>
    /// <exception cref="ArgumentException">Nothing matches.</exception>
    public static IReadOnlyList<string> Files(string directoryOrGlob)
    {
        IEnumerable<string> files;
        if (Directory.Exists(directoryOrGlob))
            files = Directory.EnumerateFiles(directoryOrGlob).Where(f => ImageExtensions.Contains(Path.GetExtension(f)));
        else if (Path.GetFileName(directoryOrGlob) is var pattern && pattern.IndexOfAny(['*', '?']) >= 0)
        {
            var directory = Path.GetDirectoryName(directoryOrGlob) is { Length: > 0 } d ? d : ".";
            if (directory.IndexOfAny(['*', '?']) >= 0)
                throw new ArgumentException($"'{directoryOrGlob}': only the file-name part of a pattern may hold * or ?");
            files = Directory.Exists(directory) ? Directory.EnumerateFiles(directory, pattern, SearchOption.TopDirectoryOnly) : [];
        }
        else if (File.Exists(directoryOrGlob))
            files = [directoryOrGlob];
        else
            throw new ArgumentException($"no such directory or file: {directoryOrGlob}");
        var ordered = files.OrderBy(Path.GetFileName, StringComparer.Ordinal).ToList();
        if (ordered.Count == 0)
            throw new ArgumentException($"no images in {directoryOrGlob} ({string.Join(", ", ImageExtensions.Order())})");
        return ordered;
    }

    /// <summary>
    /// The labels of a CSV of <c>file name,label</c> rows (a header row <c>file,label</c> is skipped; a field with a comma
    /// or a quote is quoted as in RFC 4180). Files the CSV does not name are unlabelled.
    /// </summary>
    /// <exception cref="ArgumentException">A row is not two fields, names a file twice, or names a file not in the dataset.</exception>
    public static IReadOnlyDictionary<string, string> ReadLabels(string csvPath, IReadOnlyCollection<string> fileNames)
    {
        if (!File.Exists(csvPath)) throw new ArgumentException($"no such file: {csvPath}");
        var known = fileNames.ToHashSet(StringComparer.Ordinal);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(csvPath, Encoding.UTF8))
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            var fields = SplitRow(line, csvPath, lineNumber);
            if (fields.Count != 2)
                throw new ArgumentException(
                    $"{csvPath}:{lineNumber}: {fields.Count} fields; each row is 'file name,label' (quote a label that has a comma)");
            var (file, label) = (fields[0], fields[1]);
            if (lineNumber == 1 && IsHeader(file, label) && !known.Contains(file)) continue;
            if (!known.Contains(file))
                throw new ArgumentException($"{csvPath}:{lineNumber}: '{file}' is not one of the dataset's {known.Count} images");
            if (!labels.TryAdd(file, label))
                throw new ArgumentException($"{csvPath}:{lineNumber}: '{file}' has a label already");
        }
        return labels;
    }

    private static bool IsHeader(string file, string label) =>
        file.ToLowerInvariant() is "file" or "file_name" or "filename" or "file name" or "image" && label.Equals("label", StringComparison.OrdinalIgnoreCase);

    /// <summary>One CSV row: unquoted fields are trimmed, quoted ones kept as written ("" is a quote).</summary>
    private static List<string> SplitRow(string line, string csvPath, int lineNumber)
    {
        var fields = new List<string>();
        var i = 0;
        while (true)
        {
            while (i < line.Length && line[i] == ' ') i++;
            var field = new StringBuilder();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length) throw new ArgumentException($"{csvPath}:{lineNumber}: a quoted field does not end on its line");
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    field.Append(line[i++]);
                }
                while (i < line.Length && line[i] == ' ') i++;
                if (i < line.Length && line[i] != ',')
                    throw new ArgumentException($"{csvPath}:{lineNumber}: text after a quoted field's closing quote");
                fields.Add(field.ToString());
            }
            else
            {
                var comma = line.IndexOf(',', i);
                var end = comma < 0 ? line.Length : comma;
                fields.Add(line[i..end].Trim());
                i = end;
            }
            if (i >= line.Length) return fields;
            i++; // the comma
        }
    }
}
