namespace Lantern.Imaging;

/// <summary>The uploaded bytes cannot be used as an image; the message tells the user what to fix.</summary>
public sealed class InvalidImageException(string message) : Exception(message);
