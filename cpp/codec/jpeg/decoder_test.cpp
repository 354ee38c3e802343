// Tests of the JPEG decoder (jpeg/decoder.hpp): small streams made by libjpeg-turbo
// (through imagecodecs) with its decoded output, lossless ones for every predictor, the
// ITU-T T.83 conformance streams and real DICOM streams of ../shared/corpus with values and
// checksums from libjpeg-turbo, and untrusted input: every truncation, bit flips, huge sizes.
// Lossy results must be within 1 of libjpeg-turbo in every sample; lossless ones exact.
// Plain executable: prints one line per failure, returns non-zero on failure.
// The working directory is the repository root (set by CMake).
#include "codec/jpeg/decoder.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "codec/common/codec_error.hpp"
#include "core/test_support.hpp"

namespace {

namespace jpeg = turbodicom::codec::jpeg;
using turbodicom::codec::codec_errc;
using turbodicom::codec::codec_error;
using bytes = std::vector<std::uint8_t>;
using turbodicom::test::current_test;
using turbodicom::test::expect_error;
using turbodicom::test::fail;

// Streams encoded by libjpeg-turbo 3 (imagecodecs.jpeg8_encode) and the samples
// imagecodecs.jpeg8_decode returns for them, components kept as coded (YCbCr stays YCbCr).
// lossless8_rgb_pt2 is lossless8_rgb with the point transform of its scan header set to 2.
const std::uint16_t lossless16_image[] = {
    61925, 40966, 44838, 58799, 37898, 50835, 54634, 14759, 3639, 19671, 18682, 57249, 59809, 345, 65535, 65535, 65535, 65535, 65535, 65535,
    65535, 0, 0, 0, 47151, 16703, 64910, 29168, 31335, 33066, 38177, 36274, 33387, 65241, 52931,
};
const std::uint8_t lossless16_p1[] = {
    255, 216, 255, 224, 0, 16, 74, 70, 73, 70, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    255, 195, 0, 11, 16, 0, 5, 0, 7, 1, 1, 17, 0, 255, 196, 0, 27, 0, 0, 2,
    2, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 12, 14, 1, 11,
    13, 10, 255, 218, 0, 8, 1, 1, 0, 1, 0, 0, 120, 242, 171, 136, 39, 144, 93, 162,
    85, 203, 87, 40, 153, 218, 236, 124, 42, 164, 125, 250, 131, 193, 18, 90, 154, 80, 7, 94,
    226, 140, 174, 0, 25, 5, 193, 114, 36, 61, 120, 156, 244, 98, 125, 51, 238, 195, 233, 251,
    232, 144, 137, 112, 252, 110, 167, 244, 255, 0, 255, 217,
};
const std::uint8_t lossless16_p2[] = {
    255, 216, 255, 224, 0, 16, 74, 70, 73, 70, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    255, 195, 0, 11, 16, 0, 5, 0, 7, 1, 1, 17, 0, 255, 196, 0, 26, 0, 1, 1,
    0, 3, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 14, 1, 9, 12, 10,
    13, 255, 218, 0, 8, 1, 1, 0, 2, 0, 0, 113, 229, 46, 32, 239, 32, 182, 137, 46,
    90, 178, 137, 238, 215, 71, 194, 110, 49, 29, 176, 99, 75, 75, 151, 163, 14, 171, 239, 134,
    87, 225, 199, 51, 39, 55, 4, 160, 94, 250, 203, 218, 165, 206, 114, 112, 94, 130, 129, 230,
    57, 199, 197, 233, 156, 4, 164, 84, 130, 86, 9, 4, 179, 105, 107, 154, 127, 255, 217,
};
const std::uint8_t lossless16_p3[] = {
    255, 216, 255, 224, 0, 16, 74, 70, 73, 70, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    255, 195, 0, 11, 16, 0, 5, 0, 7, 1, 1, 17, 0, 255, 196, 0, 26, 0, 1, 1,
    0, 3, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 14, 1, 12, 13, 10,
    11, 255, 218, 0, 8, 1, 1, 0, 3, 0, 0, 113, 229, 46, 32, 223, 32, 182, 137, 46,
    90, 178, 137, 222, 215, 71, 194, 238, 41, 22, 104, 12, 233, 252, 124, 85, 101, 238, 177, 161,
    149, 225, 149, 244, 113, 204, 201, 205, 193, 40, 23, 186, 203, 217, 206, 78, 11, 208, 80, 60,
    199, 56, 248, 189, 51, 128, 148, 138, 144, 6, 216, 197, 29, 158, 204, 200, 154, 127, 255, 217,
};
const std::uint8_t lossless16_p4[] = {
    255, 216, 255, 224, 0, 16, 74, 70, 73, 70, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    255, 195, 0, 11, 16, 0, 5, 0, 7, 1, 1, 17, 0, 255, 196, 0, 27, 0, 0, 2,
    3, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 14, 15, 0, 12, 13, 1,
    10, 11, 255, 218, 0, 8, 1, 1, 0, 4, 0, 0, 120, 242, 171, 136, 47, 144, 27, 68,
    171, 150, 140, 162, 111, 107, 177, 240, 137, 155, 203, 224, 1, 102, 114, 18, 197, 221, 172, 112,
    131, 43, 149, 184, 0, 175, 247, 221, 116, 172, 213, 255, 0, 200, 71, 230, 69, 193, 114, 36,
    61, 120, 156, 244, 98, 125, 51, 251, 97, 233, 251, 176, 24, 157, 117, 32, 3, 205, 184, 143,
    255, 217,
};
const std::uint8_t lossless16_p5[] = {
    255, 216, 255, 224, 0, 16, 74, 70, 73, 70, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    255, 195, 0, 11, 16, 0, 5, 0, 7, 1, 1, 17, 0, 255, 196, 0, 28, 0, 0, 2,
    2, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 13, 15, 12, 14, 0, 11,
    1, 9, 10, 255, 218, 0, 8, 1, 1, 0, 5, 0, 0, 120, 242, 171, 136, 39, 144, 93,
    162, 85, 203, 87, 40, 153, 218, 236, 124, 47, 47, 247, 113, 0, 27, 203, 247, 152, 23, 100,
    19, 104, 202, 229, 110, 0, 87, 247, 222, 180, 172, 213, 254, 244, 36, 231, 49, 112, 92, 137,
    15, 94, 39, 61, 24, 159, 76, 251, 176, 201, 251, 167, 30, 110, 6, 39, 145, 202, 220, 255,
    0, 255, 217,
};
const std::uint8_t lossless16_p6[] = {
    255, 216, 255, 224, 0, 16, 74, 70, 73, 70, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    255, 195, 0, 11, 16, 0, 5, 0, 7, 1, 1, 17, 0, 255, 196, 0, 26, 0, 1, 1,
    0, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 14, 12, 13, 1, 10,
    11, 255, 218, 0, 8, 1, 1, 0, 6, 0, 0, 113, 229, 46, 32, 207, 32, 182, 137, 46,
    90, 178, 137, 206, 215, 71, 194, 138, 79, 211, 76, 10, 57, 12, 248, 245, 66, 221, 52, 67,
    43, 135, 77, 221, 34, 46, 184, 194, 109, 251, 23, 225, 187, 114, 0, 0, 0, 1, 112, 96,
    202, 80, 185, 222, 230, 84, 244, 206, 135, 238, 169, 24, 21, 228, 172, 215, 160, 180, 92, 46,
    255, 217,
};
const std::uint8_t lossless16_p7[] = {
    255, 216, 255, 224, 0, 16, 74, 70, 73, 70, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    255, 195, 0, 11, 16, 0, 5, 0, 7, 1, 1, 17, 0, 255, 196, 0, 24, 0, 1, 1,
    1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 13, 14, 12, 1, 255,
    218, 0, 8, 1, 1, 0, 7, 0, 0, 113, 229, 46, 32, 239, 32, 219, 68, 151, 45, 108,
    162, 123, 181, 209, 240, 136, 88, 39, 20, 23, 219, 56, 143, 214, 135, 208, 234, 97, 149, 222,
    57, 22, 101, 22, 224, 232, 23, 245, 151, 191, 169, 250, 0, 0, 0, 1, 184, 48, 101, 40,
    92, 239, 115, 42, 122, 103, 67, 247, 84, 140, 142, 19, 107, 207, 125, 187, 89, 127, 255, 217,
};
const std::uint8_t lossless8_rgb_image[] = {
    202, 179, 159, 87, 253, 119, 55, 216, 41, 219, 156, 29, 11, 113, 9, 36, 131, 248, 119, 206,
    234, 210, 161, 112, 131, 68, 127, 97, 63, 254, 3, 24, 49, 248, 177, 225, 51, 184, 94, 125,
    0, 158, 212, 169, 39, 136, 68, 247, 225, 47, 130, 240, 216, 181, 163, 10, 189, 121, 23, 62,
    138, 186, 129, 156, 223, 175, 92, 164, 153, 27, 15, 169,
};
const std::uint8_t lossless8_rgb[] = {
    255, 216, 255, 238, 0, 14, 65, 100, 111, 98, 101, 0, 100, 0, 0, 0, 0, 0, 255, 195,
    0, 17, 8, 0, 4, 0, 6, 3, 82, 17, 0, 71, 17, 0, 66, 17, 0, 255, 196, 0,
    27, 0, 0, 3, 1, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 7,
    8, 5, 1, 3, 4, 9, 255, 218, 0, 12, 3, 82, 0, 71, 0, 66, 0, 6, 0, 0,
    101, 25, 239, 163, 25, 66, 227, 227, 75, 26, 144, 15, 199, 23, 138, 101, 236, 233, 93, 234,
    205, 182, 93, 74, 150, 19, 247, 166, 91, 82, 254, 101, 108, 106, 42, 183, 182, 27, 98, 139,
    188, 153, 204, 50, 105, 122, 63, 43, 100, 135, 2, 68, 182, 94, 171, 85, 17, 184, 171, 120,
    74, 45, 240, 55, 116, 224, 183, 238, 162, 142, 105, 52, 84, 224, 80, 119, 54, 252, 252, 200,
    255, 217,
};
const std::uint8_t baseline_gray[] = {
    255, 216, 255, 224, 0, 16, 74, 70, 73, 70, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    255, 219, 0, 67, 0, 8, 6, 6, 7, 6, 5, 8, 7, 7, 7, 9, 9, 8, 10, 12,
    20, 13, 12, 11, 11, 12, 25, 18, 19, 15, 20, 29, 26, 31, 30, 29, 26, 28, 28, 32,
    36, 46, 39, 32, 34, 44, 35, 28, 28, 40, 55, 41, 44, 48, 49, 52, 52, 52, 31, 39,
    57, 61, 56, 50, 60, 46, 51, 52, 50, 255, 192, 0, 11, 8, 0, 11, 0, 13, 1, 1,
    17, 0, 255, 196, 0, 31, 0, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0,
    0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255, 196, 0, 181, 16,
    0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125, 1, 2, 3, 0,
    4, 17, 5, 18, 33, 49, 65, 6, 19, 81, 97, 7, 34, 113, 20, 50, 129, 145, 161, 8,
    35, 66, 177, 193, 21, 82, 209, 240, 36, 51, 98, 114, 130, 9, 10, 22, 23, 24, 25, 26,
    37, 38, 39, 40, 41, 42, 52, 53, 54, 55, 56, 57, 58, 67, 68, 69, 70, 71, 72, 73,
    74, 83, 84, 85, 86, 87, 88, 89, 90, 99, 100, 101, 102, 103, 104, 105, 106, 115, 116, 117,
    118, 119, 120, 121, 122, 131, 132, 133, 134, 135, 136, 137, 138, 146, 147, 148, 149, 150, 151, 152,
    153, 154, 162, 163, 164, 165, 166, 167, 168, 169, 170, 178, 179, 180, 181, 182, 183, 184, 185, 186,
    194, 195, 196, 197, 198, 199, 200, 201, 202, 210, 211, 212, 213, 214, 215, 216, 217, 218, 225, 226,
    227, 228, 229, 230, 231, 232, 233, 234, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 255, 218,
    0, 8, 1, 1, 0, 0, 63, 0, 230, 188, 23, 162, 127, 171, 249, 107, 214, 238, 53, 191,
    14, 248, 54, 194, 211, 251, 126, 251, 236, 127, 106, 221, 228, 254, 226, 73, 55, 109, 198, 239,
    184, 167, 24, 220, 189, 125, 107, 155, 240, 92, 49, 254, 239, 228, 21, 193, 124, 87, 184, 146,
    239, 226, 78, 163, 12, 228, 60, 118, 145, 65, 12, 3, 104, 27, 16, 196, 178, 17, 199, 95,
    153, 216, 243, 235, 233, 138, 255, 217,
};
const std::uint8_t baseline_gray_expected[] = {
    2, 16, 36, 53, 68, 86, 106, 120, 133, 150, 170, 184, 204, 9, 23, 43, 60, 75, 93, 112,
    126, 147, 161, 185, 204, 204, 19, 33, 52, 70, 85, 103, 122, 136, 160, 159, 179, 205, 219, 28,
    42, 62, 79, 94, 112, 132, 146, 162, 183, 213, 214, 231, 36, 50, 70, 88, 103, 120, 140, 154,
    169, 186, 206, 205, 255, 46, 60, 79, 97, 112, 130, 149, 163, 181, 199, 219, 236, 246, 56, 70,
    89, 107, 122, 139, 159, 173, 184, 214, 232, 218, 21, 62, 76, 96, 114, 129, 146, 166, 180, 208,
    213, 227, 255, 0, 72, 86, 106, 123, 139, 156, 176, 190, 207, 224, 242, 12, 5, 82, 96, 116,
    133, 148, 166, 185, 199, 233, 235, 229, 25, 23, 90, 104, 124, 142, 157, 174, 194, 208, 217, 245,
    13, 29, 33,
};
const std::uint8_t colour420[] = {
    255, 216, 255, 224, 0, 16, 74, 70, 73, 70, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    255, 219, 0, 67, 0, 5, 3, 4, 4, 4, 3, 5, 4, 4, 4, 5, 5, 5, 6, 7,
    12, 8, 7, 7, 7, 7, 15, 11, 11, 9, 12, 17, 15, 18, 18, 17, 15, 17, 17, 19,
    22, 28, 23, 19, 20, 26, 21, 17, 17, 24, 33, 24, 26, 29, 29, 31, 31, 31, 19, 23,
    34, 36, 34, 30, 36, 28, 30, 31, 30, 255, 219, 0, 67, 1, 5, 5, 5, 7, 6, 7,
    14, 8, 8, 14, 30, 20, 17, 20, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 255, 192,
    0, 17, 8, 0, 9, 0, 17, 3, 1, 34, 0, 2, 17, 1, 3, 17, 1, 255, 196, 0,
    31, 0, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255, 196, 0, 181, 16, 0, 2, 1, 3, 3,
    2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125, 1, 2, 3, 0, 4, 17, 5, 18, 33,
    49, 65, 6, 19, 81, 97, 7, 34, 113, 20, 50, 129, 145, 161, 8, 35, 66, 177, 193, 21,
    82, 209, 240, 36, 51, 98, 114, 130, 9, 10, 22, 23, 24, 25, 26, 37, 38, 39, 40, 41,
    42, 52, 53, 54, 55, 56, 57, 58, 67, 68, 69, 70, 71, 72, 73, 74, 83, 84, 85, 86,
    87, 88, 89, 90, 99, 100, 101, 102, 103, 104, 105, 106, 115, 116, 117, 118, 119, 120, 121, 122,
    131, 132, 133, 134, 135, 136, 137, 138, 146, 147, 148, 149, 150, 151, 152, 153, 154, 162, 163, 164,
    165, 166, 167, 168, 169, 170, 178, 179, 180, 181, 182, 183, 184, 185, 186, 194, 195, 196, 197, 198,
    199, 200, 201, 202, 210, 211, 212, 213, 214, 215, 216, 217, 218, 225, 226, 227, 228, 229, 230, 231,
    232, 233, 234, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 255, 196, 0, 31, 1, 0, 3,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5,
    6, 7, 8, 9, 10, 11, 255, 196, 0, 181, 17, 0, 2, 1, 2, 4, 4, 3, 4, 7,
    5, 4, 4, 0, 1, 2, 119, 0, 1, 2, 3, 17, 4, 5, 33, 49, 6, 18, 65, 81,
    7, 97, 113, 19, 34, 50, 129, 8, 20, 66, 145, 161, 177, 193, 9, 35, 51, 82, 240, 21,
    98, 114, 209, 10, 22, 36, 52, 225, 37, 241, 23, 24, 25, 26, 38, 39, 40, 41, 42, 53,
    54, 55, 56, 57, 58, 67, 68, 69, 70, 71, 72, 73, 74, 83, 84, 85, 86, 87, 88, 89,
    90, 99, 100, 101, 102, 103, 104, 105, 106, 115, 116, 117, 118, 119, 120, 121, 122, 130, 131, 132,
    133, 134, 135, 136, 137, 138, 146, 147, 148, 149, 150, 151, 152, 153, 154, 162, 163, 164, 165, 166,
    167, 168, 169, 170, 178, 179, 180, 181, 182, 183, 184, 185, 186, 194, 195, 196, 197, 198, 199, 200,
    201, 202, 210, 211, 212, 213, 214, 215, 216, 217, 218, 226, 227, 228, 229, 230, 231, 232, 233, 234,
    242, 243, 244, 245, 246, 247, 248, 249, 250, 255, 218, 0, 12, 3, 1, 0, 2, 17, 3, 17,
    0, 63, 0, 243, 63, 14, 252, 48, 251, 191, 232, 255, 0, 165, 122, 55, 135, 126, 24, 125,
    223, 244, 127, 210, 187, 143, 15, 127, 13, 122, 55, 135, 191, 134, 188, 188, 14, 103, 91, 67,
    231, 184, 59, 140, 179, 15, 119, 83, 202, 127, 225, 88, 127, 211, 183, 233, 69, 123, 245, 21,
    237, 127, 105, 214, 63, 92, 255, 0, 92, 179, 14, 231, 255, 217,
};
const std::uint8_t colour420_expected[] = {
    1, 125, 124, 6, 126, 127, 12, 128, 133, 18, 130, 140, 23, 133, 148, 29, 135, 155, 35, 137,
    162, 39, 138, 168, 45, 140, 174, 49, 141, 180, 56, 142, 187, 62, 144, 194, 67, 148, 202, 72,
    150, 209, 79, 152, 215, 83, 153, 221, 88, 155, 226, 17, 123, 119, 22, 124, 122, 28, 126, 128,
    34, 129, 135, 39, 131, 143, 45, 133, 150, 51, 135, 157, 56, 137, 163, 61, 138, 169, 65, 139,
    175, 72, 141, 182, 78, 143, 189, 83, 146, 197, 88, 148, 204, 95, 150, 210, 99, 152, 216, 105,
    153, 221, 36, 120, 110, 40, 121, 113, 46, 123, 118, 52, 126, 125, 57, 128, 133, 63, 130, 140,
    69, 132, 147, 74, 133, 154, 79, 134, 159, 84, 136, 165, 90, 138, 172, 96, 140, 179, 101, 142,
    187, 107, 145, 194, 113, 147, 200, 118, 149, 206, 124, 150, 211, 53, 116, 98, 57, 117, 100, 63,
    119, 106, 69, 122, 113, 74, 124, 121, 80, 126, 128, 86, 128, 135, 91, 129, 141, 96, 130, 147,
    101, 131, 153, 107, 133, 160, 113, 136, 167, 118, 138, 175, 124, 141, 182, 130, 143, 188, 135, 145,
    193, 141, 146, 199, 70, 111, 83, 75, 112, 85, 81, 114, 91, 87, 116, 98, 92, 119, 106, 98,
    121, 114, 104, 123, 120, 108, 124, 126, 114, 125, 132, 118, 126, 138, 125, 128, 145, 130, 130, 152,
    136, 133, 160, 141, 136, 167, 148, 138, 173, 152, 139, 179, 158, 140, 184, 87, 106, 69, 92, 106,
    72, 98, 109, 78, 104, 111, 84, 109, 114, 93, 115, 116, 100, 121, 118, 106, 125, 119, 113, 131,
    120, 119, 135, 121, 125, 142, 123, 131, 147, 125, 139, 153, 128, 147, 158, 130, 153, 165, 133, 160,
    169, 134, 165, 174, 135, 170, 105, 101, 56, 110, 101, 59, 116, 104, 65, 122, 106, 71, 127, 108,
    80, 133, 111, 87, 139, 113, 94, 144, 114, 100, 149, 115, 106, 154, 116, 112, 160, 118, 119, 166,
    120, 126, 171, 123, 134, 177, 125, 140, 183, 128, 147, 188, 129, 152, 193, 130, 158, 122, 96, 46,
    126, 97, 49, 132, 99, 55, 138, 102, 61, 143, 104, 70, 149, 106, 77, 155, 108, 84, 160, 110,
    90, 165, 111, 96, 170, 112, 102, 176, 114, 109, 182, 116, 116, 187, 119, 124, 193, 121, 130, 199,
    123, 136, 204, 125, 142, 210, 126, 148, 141, 93, 39, 145, 94, 42, 151, 96, 48, 157, 99, 54,
    162, 101, 63, 167, 103, 70, 173, 105, 76, 178, 106, 83, 184, 107, 89, 189, 109, 95, 195, 111,
    101, 201, 113, 109, 205, 115, 117, 211, 118, 123, 217, 120, 129, 222, 122, 134, 228, 123, 140,
};
const std::uint8_t colour422[] = {
    255, 216, 255, 224, 0, 16, 74, 70, 73, 70, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    255, 219, 0, 67, 0, 5, 3, 4, 4, 4, 3, 5, 4, 4, 4, 5, 5, 5, 6, 7,
    12, 8, 7, 7, 7, 7, 15, 11, 11, 9, 12, 17, 15, 18, 18, 17, 15, 17, 17, 19,
    22, 28, 23, 19, 20, 26, 21, 17, 17, 24, 33, 24, 26, 29, 29, 31, 31, 31, 19, 23,
    34, 36, 34, 30, 36, 28, 30, 31, 30, 255, 219, 0, 67, 1, 5, 5, 5, 7, 6, 7,
    14, 8, 8, 14, 30, 20, 17, 20, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
    30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 255, 192,
    0, 17, 8, 0, 9, 0, 17, 3, 1, 33, 0, 2, 17, 1, 3, 17, 1, 255, 196, 0,
    31, 0, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255, 196, 0, 181, 16, 0, 2, 1, 3, 3,
    2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125, 1, 2, 3, 0, 4, 17, 5, 18, 33,
    49, 65, 6, 19, 81, 97, 7, 34, 113, 20, 50, 129, 145, 161, 8, 35, 66, 177, 193, 21,
    82, 209, 240, 36, 51, 98, 114, 130, 9, 10, 22, 23, 24, 25, 26, 37, 38, 39, 40, 41,
    42, 52, 53, 54, 55, 56, 57, 58, 67, 68, 69, 70, 71, 72, 73, 74, 83, 84, 85, 86,
    87, 88, 89, 90, 99, 100, 101, 102, 103, 104, 105, 106, 115, 116, 117, 118, 119, 120, 121, 122,
    131, 132, 133, 134, 135, 136, 137, 138, 146, 147, 148, 149, 150, 151, 152, 153, 154, 162, 163, 164,
    165, 166, 167, 168, 169, 170, 178, 179, 180, 181, 182, 183, 184, 185, 186, 194, 195, 196, 197, 198,
    199, 200, 201, 202, 210, 211, 212, 213, 214, 215, 216, 217, 218, 225, 226, 227, 228, 229, 230, 231,
    232, 233, 234, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 255, 196, 0, 31, 1, 0, 3,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5,
    6, 7, 8, 9, 10, 11, 255, 196, 0, 181, 17, 0, 2, 1, 2, 4, 4, 3, 4, 7,
    5, 4, 4, 0, 1, 2, 119, 0, 1, 2, 3, 17, 4, 5, 33, 49, 6, 18, 65, 81,
    7, 97, 113, 19, 34, 50, 129, 8, 20, 66, 145, 161, 177, 193, 9, 35, 51, 82, 240, 21,
    98, 114, 209, 10, 22, 36, 52, 225, 37, 241, 23, 24, 25, 26, 38, 39, 40, 41, 42, 53,
    54, 55, 56, 57, 58, 67, 68, 69, 70, 71, 72, 73, 74, 83, 84, 85, 86, 87, 88, 89,
    90, 99, 100, 101, 102, 103, 104, 105, 106, 115, 116, 117, 118, 119, 120, 121, 122, 130, 131, 132,
    133, 134, 135, 136, 137, 138, 146, 147, 148, 149, 150, 151, 152, 153, 154, 162, 163, 164, 165, 166,
    167, 168, 169, 170, 178, 179, 180, 181, 182, 183, 184, 185, 186, 194, 195, 196, 197, 198, 199, 200,
    201, 202, 210, 211, 212, 213, 214, 215, 216, 217, 218, 226, 227, 228, 229, 230, 231, 232, 233, 234,
    242, 243, 244, 245, 246, 247, 248, 249, 250, 255, 218, 0, 12, 3, 1, 0, 2, 17, 3, 17,
    0, 63, 0, 243, 63, 14, 252, 48, 251, 191, 232, 255, 0, 165, 122, 55, 135, 126, 24, 125,
    223, 244, 127, 210, 163, 3, 152, 237, 169, 215, 193, 220, 91, 240, 251, 199, 81, 255, 0, 10,
    195, 254, 157, 191, 74, 43, 219, 254, 210, 243, 63, 92, 255, 0, 91, 127, 188, 104, 120, 123,
    248, 107, 209, 188, 61, 252, 53, 240, 88, 30, 135, 242, 87, 6, 253, 147, 168, 162, 189, 163,
    245, 195, 255, 217,
};
const std::uint8_t colour422_expected[] = {
    1, 129, 131, 6, 130, 134, 12, 132, 140, 18, 134, 147, 23, 137, 155, 29, 139, 162, 35, 141,
    169, 39, 143, 175, 45, 143, 181, 49, 145, 187, 56, 146, 194, 62, 149, 201, 67, 151, 209, 72,
    154, 216, 79, 156, 222, 83, 158, 228, 88, 160, 233, 17, 124, 120, 22, 125, 123, 28, 127, 129,
    34, 130, 136, 39, 132, 144, 45, 135, 151, 51, 136, 158, 56, 138, 164, 61, 138, 170, 65, 140,
    176, 72, 142, 183, 78, 144, 190, 83, 147, 198, 88, 149, 205, 95, 151, 211, 99, 153, 217, 105,
    155, 221, 36, 118, 106, 40, 119, 109, 46, 121, 114, 52, 124, 121, 57, 126, 129, 63, 129, 136,
    69, 130, 143, 74, 132, 149, 79, 132, 155, 84, 134, 161, 90, 135, 168, 96, 138, 175, 101, 140,
    183, 107, 143, 190, 113, 145, 196, 118, 147, 202, 124, 148, 207, 53, 113, 93, 57, 114, 96, 63,
    117, 102, 69, 119, 109, 74, 122, 117, 80, 124, 124, 86, 126, 131, 91, 128, 137, 96, 128, 143,
    101, 130, 149, 107, 131, 156, 113, 133, 163, 118, 136, 171, 124, 138, 178, 130, 141, 183, 135, 143,
    189, 141, 144, 194, 70, 110, 83, 75, 111, 86, 81, 114, 92, 87, 116, 99, 92, 119, 107, 98,
    121, 114, 104, 123, 121, 108, 125, 127, 114, 125, 133, 118, 127, 139, 125, 128, 146, 130, 130, 153,
    136, 133, 161, 141, 135, 168, 148, 138, 173, 152, 140, 179, 158, 140, 184, 87, 106, 71, 92, 107,
    74, 98, 109, 80, 104, 112, 87, 109, 114, 94, 115, 117, 102, 121, 118, 108, 125, 120, 115, 131,
    120, 120, 135, 122, 127, 142, 124, 133, 147, 126, 141, 153, 129, 149, 158, 131, 156, 165, 133, 161,
    169, 135, 167, 174, 136, 172, 105, 100, 56, 110, 101, 59, 116, 103, 65, 122, 106, 72, 127, 108,
    80, 133, 111, 87, 139, 112, 94, 144, 114, 100, 149, 114, 105, 154, 116, 112, 160, 118, 118, 166,
    120, 126, 171, 123, 134, 177, 125, 141, 183, 127, 146, 188, 129, 152, 193, 129, 157, 122, 95, 45,
    126, 96, 48, 132, 99, 54, 138, 101, 61, 143, 104, 69, 149, 106, 76, 155, 107, 83, 160, 109,
    89, 165, 109, 94, 170, 111, 101, 176, 113, 107, 182, 115, 115, 187, 118, 123, 193, 120, 130, 199,
    123, 135, 204, 124, 141, 210, 125, 146, 141, 91, 32, 145, 92, 35, 151, 94, 40, 157, 96, 47,
    162, 99, 56, 167, 101, 63, 173, 103, 70, 178, 105, 76, 184, 105, 82, 189, 107, 89, 195, 108,
    95, 201, 111, 103, 205, 113, 111, 211, 116, 118, 217, 118, 124, 222, 120, 130, 228, 120, 134,
};
const std::uint8_t extended12[] = {
    255, 216, 255, 224, 0, 16, 74, 70, 73, 70, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    255, 219, 0, 67, 0, 3, 2, 2, 3, 2, 2, 3, 3, 3, 3, 4, 3, 3, 4, 5,
    8, 5, 5, 4, 4, 5, 10, 7, 7, 6, 8, 12, 10, 12, 12, 11, 10, 11, 11, 13,
    14, 18, 16, 13, 14, 17, 14, 11, 11, 16, 22, 16, 17, 19, 20, 21, 21, 21, 12, 15,
    23, 24, 22, 20, 24, 18, 20, 21, 20, 255, 193, 0, 11, 12, 0, 9, 0, 10, 1, 1,
    17, 0, 255, 196, 0, 22, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 13, 11, 12, 255, 196, 0, 40, 16, 0, 0, 1, 10, 5, 5, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 7, 8, 10, 12, 39, 56, 68, 97, 40, 70,
    72, 85, 101, 115, 118, 133, 181, 195, 255, 218, 0, 8, 1, 1, 0, 0, 63, 0, 137, 251,
    170, 147, 14, 18, 129, 15, 246, 170, 78, 157, 130, 25, 138, 94, 195, 134, 14, 208, 76, 63,
    200, 102, 42, 78, 60, 133, 134, 62, 55, 85, 45, 32, 120, 175, 152, 67, 49, 75, 228, 237,
    4, 246, 25, 139, 215, 144, 31, 255, 217,
};
const std::uint16_t extended12_expected[] = {
    0, 300, 600, 901, 1199, 1500, 1800, 2100, 2400, 2699, 100, 400, 699, 1001, 1298, 1600, 1900, 2200, 2500, 2799,
    200, 501, 800, 1102, 1399, 1701, 2000, 2300, 2601, 2900, 300, 601, 900, 1202, 1499, 1801, 2100, 2400, 2701, 3000,
    400, 700, 999, 1301, 1598, 1900, 2199, 2500, 2800, 3099, 500, 800, 1099, 1401, 1698, 2000, 2299, 2600, 2900, 3199,
    600, 900, 1200, 1502, 1799, 2101, 2400, 2700, 3001, 3299, 700, 1000, 1300, 1601, 1899, 2200, 2500, 2800, 3100, 3399,
    800, 1100, 1400, 1701, 1999, 2300, 2600, 2900, 3200, 3499,
};
const std::uint8_t lossless8_rgb_pt2[] = {255, 216, 255, 238, 0, 14, 65, 100, 111, 98, 101, 0, 100, 0, 0, 0, 0, 0, 255, 195, 0, 17, 8, 0, 4, 0, 6, 3, 82, 17, 0, 71, 17, 0, 66, 17, 0, 255, 196, 0, 27, 0, 0, 3, 1, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 7, 8, 5, 1, 3, 4, 9, 255, 218, 0, 12, 3, 82, 0, 71, 0, 66, 0, 6, 0, 2, 101, 25, 239, 163, 25, 66, 227, 227, 75, 26, 144, 15, 199, 23, 138, 101, 236, 233, 93, 234, 205, 182, 93, 74, 150, 19, 247, 166, 91, 82, 254, 101, 108, 106, 42, 183, 182, 27, 98, 139, 188, 153, 204, 50, 105, 122, 63, 43, 100, 135, 2, 68, 182, 94, 171, 85, 17, 184, 171, 120, 74, 45, 240, 55, 116, 224, 183, 238, 162, 142, 105, 52, 84, 224, 80, 119, 54, 252, 252, 200, 255, 217};
const std::uint8_t lossless8_rgb_pt2_expected[] = {168, 76, 252, 220, 116, 92, 92, 224, 36, 236, 240, 244, 172, 68, 164, 16, 140, 96, 92, 184, 40, 200, 4, 64, 140, 144, 124, 4, 124, 120, 140, 224, 68, 96, 68, 4, 76, 96, 248, 116, 128, 248, 208, 36, 28, 160, 144, 92, 4, 60, 136, 64, 224, 84, 12, 168, 116, 100, 220, 120, 168, 104, 132, 240, 252, 60, 240, 16, 228, 236, 188, 36};

// Decodes, reporting any exception as a failure; returns the samples widened to 32 bits.
std::vector<std::int64_t> decode_samples(const std::string& what, const std::uint8_t* data, std::size_t size,
                                         unsigned sample_bytes, jpeg::stream_info* info_out = nullptr) {
    try {
        const jpeg::stream_info info = jpeg::read_info(data, size);
        if (info_out) *info_out = info;
        const std::size_t n = std::size_t(info.width) * info.height * info.components.size();
        bytes out(n * sample_bytes);
        jpeg::decode(data, size, out.data(), out.size(), sample_bytes);
        std::vector<std::int64_t> samples(n);
        for (std::size_t i = 0; i < n; ++i) {
            if (sample_bytes == 1) {
                samples[i] = out[i];
            } else {
                std::uint16_t v;
                std::memcpy(&v, out.data() + 2 * i, 2);
                samples[i] = v;
            }
        }
        return samples;
    } catch (const std::exception& e) {
        fail(what + ": " + e.what());
        return {};
    }
}

template <class T, std::size_t N>
void expect_samples(const std::string& what, const std::vector<std::int64_t>& got, const T (&expected)[N], int tolerance) {
    if (got.size() != N) {
        fail(what + ": " + std::to_string(got.size()) + " samples, expected " + std::to_string(N));
        return;
    }
    for (std::size_t i = 0; i < N; ++i) {
        if (std::llabs(got[i] - static_cast<std::int64_t>(expected[i])) > tolerance) {
            fail(what + ": sample " + std::to_string(i) + " is " + std::to_string(got[i]) + ", expected " +
                 std::to_string(+expected[i]));
            return;
        }
    }
}

// Decodes or raises codec_error; anything else is a failure.
void decode_or_raise(const std::string& what, const std::uint8_t* data, std::size_t size) {
    try {
        const jpeg::stream_info info = jpeg::read_info(data, size);
        const std::uint64_t n = std::uint64_t(info.width) * info.height * info.components.size() * 2;
        if (n > (std::uint64_t(64) << 20)) return;
        bytes out(static_cast<std::size_t>(n));
        jpeg::decode(data, size, out.data(), out.size(), 2);
    } catch (const codec_error&) {
    } catch (const std::exception& e) {
        fail(what + ": unexpected exception " + e.what());
    }
}

void test_lossless_predictors() {
    current_test = "lossless predictors";
    const std::uint8_t* streams[] = {lossless16_p1, lossless16_p2, lossless16_p3, lossless16_p4,
                                     lossless16_p5, lossless16_p6, lossless16_p7};
    const std::size_t sizes[] = {sizeof lossless16_p1, sizeof lossless16_p2, sizeof lossless16_p3, sizeof lossless16_p4,
                                 sizeof lossless16_p5, sizeof lossless16_p6, sizeof lossless16_p7};
    for (int p = 0; p < 7; ++p) {
        jpeg::stream_info info;
        const auto got = decode_samples("predictor " + std::to_string(p + 1), streams[p], sizes[p], 2, &info);
        expect_samples("predictor " + std::to_string(p + 1), got, lossless16_image, 0);
        CHECK(info.process == 0xC3 && info.precision == 16 && info.width == 7 && info.height == 5);
    }
    expect_samples("8-bit RGB", decode_samples("8-bit RGB", lossless8_rgb, sizeof lossless8_rgb, 1), lossless8_rgb_image, 0);
    expect_samples("8-bit RGB as 2 bytes", decode_samples("8-bit RGB", lossless8_rgb, sizeof lossless8_rgb, 2), lossless8_rgb_image, 0);
    expect_samples("point transform 2", decode_samples("Pt 2", lossless8_rgb_pt2, sizeof lossless8_rgb_pt2, 1),
                   lossless8_rgb_pt2_expected, 0);
}

void test_lossy() {
    current_test = "lossy";
    jpeg::stream_info info;
    expect_samples("baseline gray", decode_samples("gray", baseline_gray, sizeof baseline_gray, 1, &info), baseline_gray_expected, 1);
    CHECK(info.width == 13 && info.height == 11 && info.jfif && info.process == 0xC0);
    expect_samples("baseline gray 2 bytes", decode_samples("gray", baseline_gray, sizeof baseline_gray, 2), baseline_gray_expected, 1);
    expect_samples("4:2:0", decode_samples("420", colour420, sizeof colour420, 1, &info), colour420_expected, 1);
    CHECK(info.components.size() == 3 && info.components[0].h == 2 && info.components[0].v == 2);
    expect_samples("4:2:2", decode_samples("422", colour422, sizeof colour422, 1, &info), colour422_expected, 1);
    CHECK(info.components.size() == 3 && info.components[0].h == 2 && info.components[0].v == 1);
    expect_samples("4:2:2 2 bytes", decode_samples("422", colour422, sizeof colour422, 2), colour422_expected, 1);
    expect_samples("12-bit", decode_samples("12-bit", extended12, sizeof extended12, 2, &info), extended12_expected, 1);
    CHECK(info.precision == 12 && info.process == 0xC1);
    expect_error<codec_error>([] {
        bytes out(10 * 9);
        jpeg::decode(extended12, sizeof extended12, out.data(), out.size(), 1);
    }, codec_errc::bad_argument, "12-bit into 1-byte samples");
    expect_error<codec_error>([] {
        bytes out(13 * 11 + 1);
        jpeg::decode(baseline_gray, sizeof baseline_gray, out.data(), out.size(), 1);
    }, codec_errc::bad_argument, "wrong output size");
}

// Every truncation and a sweep of bit flips over small streams: decode or codec_error.
void test_untrusted_input() {
    current_test = "untrusted input";
    const std::pair<const std::uint8_t*, std::size_t> streams[] = {
        {colour420, sizeof colour420}, {lossless8_rgb, sizeof lossless8_rgb}, {extended12, sizeof extended12},
        {lossless16_p4, sizeof lossless16_p4}};
    for (const auto& s : streams) {
        for (std::size_t n = 0; n < s.second; ++n) {
            bytes cut(s.first, s.first + n);
            decode_or_raise("truncated at " + std::to_string(n), cut.data(), cut.size());
        }
        for (std::size_t i = 0; i < s.second; ++i) {
            for (int bit = 0; bit < 8; ++bit) {
                bytes flipped(s.first, s.first + s.second);
                flipped[i] ^= static_cast<std::uint8_t>(1u << bit);
                decode_or_raise("bit flip at " + std::to_string(i), flipped.data(), flipped.size());
            }
        }
    }
    // A truncated entropy-coded segment decodes (the missing bits are zeros).
    {
        bytes cut(colour420, colour420 + sizeof colour420 - 40);
        bytes out(17 * 9 * 3);
        try {
            jpeg::decode(cut.data(), cut.size(), out.data(), out.size(), 1);
        } catch (const std::exception& e) {
            fail(std::string("truncated scan: ") + e.what());
        }
    }
    // Garbage after EOI is ignored.
    {
        bytes tail(baseline_gray, baseline_gray + sizeof baseline_gray);
        for (int i = 0; i < 50; ++i) tail.push_back(static_cast<std::uint8_t>(i * 37));
        expect_samples("garbage after EOI", decode_samples("garbage", tail.data(), tail.size(), 1), baseline_gray_expected, 1);
    }
    // A frame header claiming 2048 x 2048 x 3 over a few hundred bytes: refused before any
    // scratch plane is allocated.
    {
        bytes big(colour420, colour420 + sizeof colour420);
        for (std::size_t i = 0; i + 8 < big.size(); ++i) {
            if (big[i] == 0xFF && big[i + 1] == 0xC0) {
                big[i + 5] = 0x08; big[i + 6] = 0x00;  // height 2048
                big[i + 7] = 0x08; big[i + 8] = 0x00;  // width 2048
                break;
            }
        }
        expect_error<codec_error>([&] {
            bytes out(std::size_t(2048) * 2048 * 3);
            jpeg::decode(big.data(), big.size(), out.data(), out.size(), 1);
        }, codec_errc::truncated, "huge frame, tiny data");
    }
    expect_error<codec_error>([] {
        const std::uint8_t sof9[] = {0xFF, 0xD8, 0xFF, 0xC9, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00};
        jpeg::read_info(sof9, sizeof sof9);
    }, codec_errc::unsupported, "arithmetic coding");
    // Regression (found by fuzzing): three 1-bit codes overflow the code space; refused
    // before any lookup entry is written.
    expect_error<codec_error>([] {
        const std::uint8_t dht[] = {0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x16, 0x00, 3, 0, 0, 0, 0, 0, 0, 0,
                                    0,    0,    0,    0,    0,    0,    0,    0,    0, 1, 2, 0xFF, 0xD9};
        bytes out(4);
        jpeg::decode(dht, sizeof dht, out.data(), out.size(), 1);
    }, codec_errc::bad_table, "Huffman code space overflow");
    // Sampling factors 3 and 2 in one frame: 3/2 is not a whole expansion ratio.
    expect_error<codec_error>([] {
        const std::uint8_t sof[] = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0E, 0x08, 0x00, 0x08, 0x00, 0x08, 0x02,
                                    0x01, 0x31, 0x00, 0x02, 0x21, 0x00, 0xFF, 0xD9};
        bytes out(8 * 8 * 2);
        jpeg::decode(sof, sizeof sof, out.data(), out.size(), 1);
    }, codec_errc::unsupported, "fractional sampling ratio");
    expect_error<codec_error>([] {
        const std::uint8_t junk[] = {0x00, 0x01, 0x02};
        jpeg::read_info(junk, sizeof junk);
    }, codec_errc::bad_marker, "no SOI");
}

bytes read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// The JPEG stream of a single-frame encapsulated DICOM file (explicit VR little endian):
// the fragments after the Basic Offset Table item, concatenated (PS3.5 A.4).
std::uint32_t le32(const std::uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t(p[3]) << 24); }

bytes dicom_stream(const std::string& path) {
    const bytes file = read_file(path);
    const std::uint8_t tag[] = {0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF};
    std::size_t pos = 0;
    for (std::size_t i = 0; i + sizeof tag <= file.size(); ++i)
        if (std::memcmp(file.data() + i, tag, sizeof tag) == 0) pos = i + sizeof tag;
    bytes stream;
    bool first = true;
    while (pos != 0 && pos + 8 <= file.size() && file[pos] == 0xFE && file[pos + 1] == 0xFF && file[pos + 2] == 0x00 &&
           file[pos + 3] == 0xE0) {
        const std::size_t len = le32(file.data() + pos + 4);
        if (len > file.size() - pos - 8) break;
        if (!first) stream.insert(stream.end(), file.begin() + static_cast<std::ptrdiff_t>(pos + 8),
                                  file.begin() + static_cast<std::ptrdiff_t>(pos + 8 + len));
        first = false;
        pos += 8 + len;
    }
    if (stream.empty()) fail("no encapsulated pixel data in " + path);
    return stream;
}

std::uint64_t fnv1a(const std::vector<std::int64_t>& samples, unsigned sample_bytes, std::size_t limit_bytes) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    std::size_t nbytes = 0;
    for (std::int64_t s : samples) {
        for (unsigned b = 0; b < sample_bytes && nbytes < limit_bytes; ++b, ++nbytes) {
            h ^= static_cast<std::uint64_t>((s >> (8 * b)) & 0xFF);
            h *= 0x100000001b3ull;
        }
    }
    return h;
}

std::int64_t total(const std::vector<std::int64_t>& v) {
    std::int64_t s = 0;
    for (std::int64_t x : v) s += x;
    return s;
}

void test_corpus() {
    current_test = "corpus";
    const std::string root = "../shared/corpus/";
    if (!std::filesystem::exists(root)) {
        std::printf("decoder_test: %s absent, corpus tests skipped\n", root.c_str());
        return;
    }
    // Lossless, 10-bit (NEMA WG04): checksum of the first 200000 bytes and the sum, from libjpeg-turbo.
    {
        const bytes s = dicom_stream(root + "pylibjpeg-data/ds/JPEGLosslessSV1/RG2_JPLL.dcm");
        const auto got = decode_samples("RG2_JPLL", s.data(), s.size(), 2);
        CHECK(got.size() == std::size_t(2140) * 1760);
        CHECK(fnv1a(got, 2, 200000) == 0x208fde7d9ca6deeeull);
        CHECK(total(got) == 1696297313);
    }
    // 16-bit lossless whose Huffman table does not cover difference category 16.
    {
        const bytes s = dicom_stream(root + "pylibjpeg-data/ds/JPEGLossless/JPEGLossless_1s_1f_i_16_16_bad.dcm");
        const auto got = decode_samples("16-bit bad table", s.data(), s.size(), 2);
        CHECK(fnv1a(got, 2, 200000) == 0x3329972e62f8f79aull);
        CHECK(total(got) == 12690805292ll);
    }
    // T.83 O1: lossless, 4 components, restart intervals.
    {
        const bytes s = read_file(root + "pylibjpeg-data/jpg/10918/p14/O1.JPG");
        const auto got = decode_samples("O1", s.data(), s.size(), 2);
        CHECK(fnv1a(got, 2, ~std::size_t(0)) == 0x2907862b5589bf99ull);
        CHECK(total(got) == 33515432);
    }
    // 12-bit extended with Se = 0 in its scan header (NEMA WG04 RG2_JPLY).
    {
        const bytes s = dicom_stream(root + "pylibjpeg-data/ds/JPEGExtended/RG2_JPLY.dcm");
        const auto got = decode_samples("RG2_JPLY", s.data(), s.size(), 2);
        const std::int64_t spots[] = {894, 386, 894, 666, 894, 434, 889, 1};
        if (got.size() == std::size_t(2140) * 1760) {
            for (int i = 0; i < 8; ++i) CHECK(std::llabs(got[i * (got.size() / 8)] - spots[i]) <= 1);
            CHECK(std::llabs(total(got) - 1698195861) < 60000);  // libjpeg-turbo's sum; ~1.4% of samples differ by 1
        } else {
            fail("RG2_JPLY size");
        }
    }
    // T.83 A1: baseline, 4 components, interleaved, sampling factors and restart intervals.
    {
        const bytes s = read_file(root + "pylibjpeg-data/jpg/10918/p1/A1.JPG");
        const auto got = decode_samples("A1", s.data(), s.size(), 1);
        const std::int64_t spots[] = {138, 33, 31, 18, 27, 131, 5, 144, 191};
        if (got.size() == std::size_t(257) * 255 * 4) {
            for (int i = 0; i < 9; ++i) CHECK(std::llabs(got[i * (got.size() / 8)] - spots[i]) <= 1);
            CHECK(std::llabs(total(got) - 33518188) < 6000);
        } else {
            fail("A1 size");
        }
    }
}

}  // namespace

int main() {
    test_lossless_predictors();
    test_lossy();
    test_untrusted_input();
    test_corpus();
    return turbodicom::test::exit_code("decoder_test");
}
