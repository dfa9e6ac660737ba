using Lantern.Explainers.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Lantern.Imaging;

/// <summary>Turns uploaded JPEG, PNG, BMP, GIF or WebP bytes into an <see cref="RgbImage"/> (0..255 floats).</summary>
public static class ImageDecoder
{
    /// <summary>Larger images are refused: 100 MP of floats is already 1.2 GB.</summary>
    public const long MaxPixels = 100_000_000;

    private const string NotAnImage = "the uploaded bytes are not a readable image (JPEG, PNG, BMP, GIF or WebP)";

    /// <summary>
    /// Decodes the first frame, applies the EXIF orientation (as browsers and PIL's exif_transpose do) and drops
    /// any alpha channel (as PIL's convert("RGB") does).
    /// </summary>
    /// <exception cref="InvalidImageException">Not a readable image, truncated, or above <see cref="MaxPixels"/>.</exception>
    public static RgbImage Decode(byte[] bytes)
    {
        var (width, height) = Identify(bytes);
        CheckSize(width, height);
        if (Truncation.Find(bytes) is { } truncated)
            throw new InvalidImageException($"{NotAnImage}: {truncated} (was the upload cut off?)");

        try
        {
            using var image = Image.Load<Rgb24>(bytes);
            image.Mutate(x => x.AutoOrient());
            var pixels = new float[3L * image.Width * image.Height];
            image.ProcessPixelRows(rows =>
            {
                for (var y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    var o = 3 * y * row.Length;
                    for (var x = 0; x < row.Length; x++, o += 3)
                    {
                        pixels[o] = row[x].R;
                        pixels[o + 1] = row[x].G;
                        pixels[o + 2] = row[x].B;
                    }
                }
            });
            return new RgbImage(image.Width, image.Height, pixels);
        }
        catch (Exception e) when (IsDecodeFailure(e))
        {
            throw new InvalidImageException($"{NotAnImage}: {e.Message}");
        }
    }

    /// <summary>Width and height as stored in the header (before EXIF orientation), without decoding the pixels.</summary>
    /// <exception cref="InvalidImageException">Not a readable image header.</exception>
    public static (int Width, int Height) Identify(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length == 0) throw new InvalidImageException($"{NotAnImage}: the upload is empty");
        IImageInfo? info;
        try
        {
            info = Image.Identify(bytes);
        }
        catch (Exception e) when (IsDecodeFailure(e))
        {
            throw new InvalidImageException($"{NotAnImage}: {e.Message}");
        }
        if (info is null) throw new InvalidImageException($"{NotAnImage}: the format was not recognised");
        if (info.Width < 1 || info.Height < 1)
            throw new InvalidImageException($"{NotAnImage}: the header gives a size of {info.Width}x{info.Height}");
        return (info.Width, info.Height);
    }

    private static void CheckSize(int width, int height)
    {
        if ((long)width * height > MaxPixels)
        {
            throw new InvalidImageException(
                $"the image is {width}x{height} ({(long)width * height / 1e6:0.#} megapixels); at most " +
                $"{MaxPixels / 1_000_000} megapixels are accepted, so please downscale it first");
        }
    }

    private static bool IsDecodeFailure(Exception e) =>
        e is ImageFormatException or UnknownImageFormatException or InvalidImageContentException or NotSupportedException
            or InvalidDataException or EndOfStreamException or IndexOutOfRangeException or ArgumentException
            or InvalidOperationException;
}
