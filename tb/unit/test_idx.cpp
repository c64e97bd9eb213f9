// IDX reader and data set helpers: round trips, every kind of corrupt file, the
// deterministic shuffle, float conversion, and (when fetched) the real data sets.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "data/idx.hpp"

namespace fs = std::filesystem;
using memplast::data::DataError;
using Bytes = std::vector<std::uint8_t>;

namespace {

void put_be32(Bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

Bytes images_idx(std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                 std::size_t payload_bytes, std::uint32_t magic = 0x00000803) {
  Bytes b;
  put_be32(b, magic);
  put_be32(b, count);
  put_be32(b, rows);
  put_be32(b, cols);
  for (std::size_t i = 0; i < payload_bytes; ++i)
    b.push_back(static_cast<std::uint8_t>((i * 37U + 11U) & 0xffU));
  return b;
}

Bytes images_idx(std::uint32_t count, std::uint32_t rows, std::uint32_t cols) {
  return images_idx(count, rows, cols, std::size_t{count} * rows * cols);
}

Bytes labels_idx(std::uint32_t count, std::size_t payload_bytes, std::uint8_t modulo = 10) {
  Bytes b;
  put_be32(b, 0x00000801);
  put_be32(b, count);
  for (std::size_t i = 0; i < payload_bytes; ++i)
    b.push_back(static_cast<std::uint8_t>(i % modulo));
  return b;
}

Bytes labels_idx(std::uint32_t count) { return labels_idx(count, count); }

Bytes gzip_bytes(const Bytes& raw, const fs::path& scratch) {
  gzFile gz = gzopen(scratch.c_str(), "wb9");
  EXPECT_NE(gz, nullptr);
  EXPECT_EQ(gzwrite(gz, raw.data(), static_cast<unsigned>(raw.size())),
            static_cast<int>(raw.size()));
  EXPECT_EQ(gzclose(gz), Z_OK);
  std::ifstream in(scratch, std::ios::binary);
  Bytes out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(scratch);
  return out;
}

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    dir_ = fs::temp_directory_path() / ("memplast_test_idx_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(stamp) + "_" + std::to_string(counter++));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string write(const std::string& name, const Bytes& bytes) {
    const fs::path p = dir_ / name;
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    return p.string();
  }
  std::string write_gz(const std::string& name, const Bytes& raw) {
    return write(name, gzip_bytes(raw, dir_ / (name + ".scratch")));
  }

  fs::path dir_;
};

// Runs fn, which must throw DataError whose message names `path` and contains
// every word in `words`.
void expect_data_error(const std::function<void()>& fn, const std::string& path,
                       const std::vector<std::string>& words) {
  try {
    fn();
    ADD_FAILURE() << "expected DataError for " << path;
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << "message does not name the file: " << msg;
    for (const auto& w : words) {
      EXPECT_NE(msg.find(w), std::string::npos) << "message lacks '" << w << "': " << msg;
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected DataError, got another exception: " << e.what();
  }
}

}  // namespace

TEST_F(IdxTest, RawRoundTrip) {
  const Bytes img = images_idx(5, 3, 4);
  const auto ip = write("img", img);
  const auto lp = write("lab", labels_idx(5));
  EXPECT_FALSE(memplast::data::is_gzip_file(ip));
  const auto images = memplast::data::read_idx_images(ip);
  EXPECT_EQ(images.count, 5U);
  EXPECT_EQ(images.rows, 3U);
  EXPECT_EQ(images.cols, 4U);
  EXPECT_EQ(images.pixels, Bytes(img.begin() + 16, img.end()));
  const auto labels = memplast::data::read_idx_labels(lp);
  EXPECT_EQ(labels.labels, (Bytes{0, 1, 2, 3, 4}));

  const auto ds = memplast::data::load_dataset(ip, lp, "tiny");
  EXPECT_EQ(ds.name, "tiny");
  EXPECT_EQ(ds.count, 5U);
  EXPECT_EQ(ds.image_size(), 12U);
  const auto view = memplast::data::image(ds, 2);
  ASSERT_EQ(view.size, 12U);
  EXPECT_TRUE(std::equal(view.begin(), view.end(), img.begin() + 16 + 24));
  EXPECT_THROW(memplast::data::image(ds, 5), std::out_of_range);
}

TEST_F(IdxTest, GzipRoundTrip) {
  const Bytes img = images_idx(7, 28, 28);
  const auto ip = write_gz("img.gz", img);
  const auto lp = write_gz("lab.gz", labels_idx(7));
  EXPECT_TRUE(memplast::data::is_gzip_file(ip));
  const auto ds = memplast::data::load_dataset(ip, lp, "tiny");
  EXPECT_EQ(ds.count, 7U);
  EXPECT_EQ(ds.rows, 28U);
  EXPECT_EQ(ds.cols, 28U);
  EXPECT_EQ(ds.pixels, Bytes(img.begin() + 16, img.end()));
  EXPECT_EQ(ds.labels, (Bytes{0, 1, 2, 3, 4, 5, 6}));
}

TEST_F(IdxTest, TruncatedPayload) {
  Bytes img = images_idx(10, 28, 28);
  img.resize(img.size() - 100);
  const auto p = write("img", img);
  expect_data_error([&] { memplast::data::read_idx_images(p); }, p,
                    {"truncated", "10 images of 28x28", "7840 bytes", "7740 bytes"});
}

TEST_F(IdxTest, TruncatedHeader) {
  const Bytes img = images_idx(10, 28, 28);
  const auto p1 = write("img2", Bytes(img.begin(), img.begin() + 2));
  expect_data_error([&] { memplast::data::read_idx_images(p1); }, p1, {"truncated"});
  const auto p2 = write("img10", Bytes(img.begin(), img.begin() + 10));
  expect_data_error([&] { memplast::data::read_idx_images(p2); }, p2, {"truncated", "header"});
  const auto p3 = write("empty", Bytes{});
  expect_data_error([&] { memplast::data::read_idx_labels(p3); }, p3, {"truncated"});
}

TEST_F(IdxTest, WrongMagic) {
  const auto p = write("img", images_idx(2, 2, 2, 8, 0x00000802));
  expect_data_error([&] { memplast::data::read_idx_images(p); }, p, {"magic", "0x00000802"});
  // A label file passed as images (and the reverse) is named as such.
  const auto lp = write("lab", labels_idx(3));
  expect_data_error([&] { memplast::data::read_idx_images(lp); }, lp, {"magic", "label file"});
  const auto ip = write("img_ok", images_idx(3, 2, 2));
  expect_data_error([&] { memplast::data::read_idx_labels(ip); }, ip, {"magic", "image file"});
}

TEST_F(IdxTest, CountLargerThanPayload) {
  const auto p = write("img", images_idx(11, 4, 4, 10 * 16));
  expect_data_error([&] { memplast::data::read_idx_images(p); }, p, {"truncated", "11 images"});
  const auto lp = write("lab", labels_idx(11, 10));
  expect_data_error([&] { memplast::data::read_idx_labels(lp); }, lp, {"truncated", "11 labels"});
}

TEST_F(IdxTest, TrailingBytes) {
  const auto p = write("img", images_idx(9, 4, 4, 10 * 16));
  expect_data_error([&] { memplast::data::read_idx_images(p); }, p, {"trailing", "16 extra"});
  const auto lp = write("lab", labels_idx(9, 10));
  expect_data_error([&] { memplast::data::read_idx_labels(lp); }, lp, {"trailing", "1 extra"});
  const auto gp = write_gz("lab.gz", labels_idx(9, 12));
  expect_data_error([&] { memplast::data::read_idx_labels(gp); }, gp, {"trailing", "3 extra"});
}

TEST_F(IdxTest, ZeroDimension) {
  const auto p = write("img", images_idx(4, 0, 28, 0));
  expect_data_error([&] { memplast::data::read_idx_images(p); }, p, {"invalid dimensions"});
  const auto lp = write("lab", labels_idx(0));
  expect_data_error([&] { memplast::data::read_idx_labels(lp); }, lp, {"invalid dimensions"});
}

TEST_F(IdxTest, HugeHeaderDoesNotAllocate) {
  const auto p = write("img", images_idx(0xffffffffU, 0xffffffffU, 0xffffffffU, 64));
  expect_data_error([&] { memplast::data::read_idx_images(p); }, p, {"invalid dimensions"});
  const auto p2 = write("img2", images_idx(0xffffffffU, 28, 28, 64));
  expect_data_error([&] { memplast::data::read_idx_images(p2); }, p2,
                    {"truncated", "only 64 bytes"});
}

TEST_F(IdxTest, ImageLabelCountMismatch) {
  const auto ip = write("img", images_idx(6, 2, 2));
  const auto lp = write("lab", labels_idx(5));
  expect_data_error([&] { memplast::data::load_dataset(ip, lp, "x"); }, ip, {"count mismatch", lp});
}

TEST_F(IdxTest, GzipGarbageAfterHeader) {
  Bytes b = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03};
  for (int i = 0; i < 64; ++i) b.push_back(0xff);
  const auto p = write("img.gz", b);
  expect_data_error([&] { memplast::data::read_idx_images(p); }, p, {"corrupt gzip"});
}

TEST_F(IdxTest, GzipTruncatedMidStream) {
  const Bytes gz = gzip_bytes(images_idx(50, 28, 28), dir_ / "scratch");
  ASSERT_GT(gz.size(), 200U);
  const auto p =
      write("img.gz", Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2)));
  expect_data_error([&] { memplast::data::read_idx_images(p); }, p, {"corrupt gzip", "truncated"});
  // Cut inside the 8-byte trailer (CRC and length): the payload is complete, the stream is not.
  const auto p2 = write("img2.gz", Bytes(gz.begin(), gz.end() - 4));
  expect_data_error([&] { memplast::data::read_idx_images(p2); }, p2, {"corrupt gzip"});
}

TEST_F(IdxTest, GzipBadChecksum) {
  Bytes gz = gzip_bytes(labels_idx(100), dir_ / "scratch");
  gz[gz.size() - 8] ^= 0x01;  // first byte of the CRC-32
  const auto p = write("lab.gz", gz);
  expect_data_error([&] { memplast::data::read_idx_labels(p); }, p, {"corrupt gzip"});
}

TEST_F(IdxTest, LabelOutOfRange) {
  const auto p = write("lab", labels_idx(20, 20, 12));
  expect_data_error([&] { memplast::data::read_idx_labels(p); }, p,
                    {"label out of range", "label 10 at index 10"});
  EXPECT_NO_THROW(memplast::data::read_idx_labels(p, 11));
  const auto ip = write("img", images_idx(20, 2, 2));
  expect_data_error([&] { memplast::data::load_dataset(ip, p, "x"); }, p, {"label out of range"});
  EXPECT_NO_THROW(memplast::data::load_dataset(ip, p, "x", 11));
}

TEST_F(IdxTest, MissingFile) {
  const auto p = (dir_ / "does-not-exist").string();
  expect_data_error([&] { memplast::data::read_idx_images(p); }, p, {"not found"});
  const auto lp = write("lab", labels_idx(3));
  expect_data_error([&] { memplast::data::load_dataset(p, lp, "x"); }, p, {"not found"});
}

TEST_F(IdxTest, LoadTaskMissingFilesSuggestsSetup) {
  const auto expected = (dir_ / "mnist" / "train-images-idx3-ubyte").string();
  expect_data_error([&] { memplast::data::load_task(dir_.string(), "mnist"); }, expected,
                    {"not found", "scripts/setup"});
  const auto fexpected = (dir_ / "fashion_mnist" / "train-images-idx3-ubyte.gz").string();
  expect_data_error([&] { memplast::data::load_task(dir_.string(), "fashion_mnist"); }, fexpected,
                    {"not found", "scripts/setup"});
  EXPECT_THROW(memplast::data::load_task(dir_.string(), "cifar10"), DataError);
}

TEST_F(IdxTest, LoadTaskFromTinyFiles) {
  fs::create_directories(dir_ / "fashion_mnist");
  write_gz("fashion_mnist/train-images-idx3-ubyte.gz", images_idx(8, 28, 28));
  write_gz("fashion_mnist/train-labels-idx1-ubyte.gz", labels_idx(8));
  write_gz("fashion_mnist/t10k-images-idx3-ubyte.gz", images_idx(3, 28, 28));
  write_gz("fashion_mnist/t10k-labels-idx1-ubyte.gz", labels_idx(3));
  const auto td = memplast::data::load_task(dir_.string(), "fashion_mnist");
  EXPECT_EQ(td.train.count, 8U);
  EXPECT_EQ(td.test.count, 3U);
  EXPECT_EQ(td.train.name, "fashion_mnist/train");
}

TEST(EpochOrder, SameSeedSameOrder) {
  EXPECT_EQ(memplast::data::epoch_order(1000, 42, 3), memplast::data::epoch_order(1000, 42, 3));
}

TEST(EpochOrder, SeedsAndEpochsDiffer) {
  const auto a = memplast::data::epoch_order(1000, 42, 0);
  EXPECT_NE(a, memplast::data::epoch_order(1000, 43, 0));
  EXPECT_NE(a, memplast::data::epoch_order(1000, 42, 1));
  std::vector<std::uint32_t> identity(1000);
  std::iota(identity.begin(), identity.end(), 0U);
  EXPECT_NE(a, identity);
}

TEST(EpochOrder, IsPermutation) {
  for (std::size_t count : {0U, 1U, 2U, 3U, 17U, 1000U, 60000U}) {
    for (std::uint32_t epoch = 0; epoch < 3; ++epoch) {
      auto order = memplast::data::epoch_order(count, 7, epoch);
      ASSERT_EQ(order.size(), count);
      std::sort(order.begin(), order.end());
      for (std::size_t i = 0; i < count; ++i) ASSERT_EQ(order[i], i) << "count " << count;
    }
  }
}

// Pins the algorithm (values from an independent Python transcription of the
// documented algorithm): a change here changes every experiment's sample order.
TEST(EpochOrder, GoldenValues) {
  EXPECT_EQ(memplast::data::epoch_order(10, 42, 0),
            (std::vector<std::uint32_t>{5, 1, 4, 8, 6, 3, 9, 2, 0, 7}));
  EXPECT_EQ(memplast::data::epoch_order(10, 0, 5),
            (std::vector<std::uint32_t>{4, 8, 0, 2, 9, 7, 1, 3, 5, 6}));
}

TEST(EpochOrder, RoughlyUniform) {
  // Position of element 0 over many seeds: each of 4 slots about 1/4 of the time.
  std::vector<int> hist(4, 0);
  const int trials = 8000;
  for (int s = 0; s < trials; ++s) {
    const auto o = memplast::data::epoch_order(4, static_cast<std::uint64_t>(s), 0);
    hist[static_cast<std::size_t>(std::find(o.begin(), o.end(), 0U) - o.begin())]++;
  }
  // Binomial sd = sqrt(8000 * 0.25 * 0.75) ~ 39; allow 5 sd.
  for (int h : hist) EXPECT_NEAR(h, trials / 4, 200);
}

TEST(Dataset, GatherFloatAndLabels) {
  // name, count, rows, cols, pixels, labels
  memplast::data::Dataset ds{"synthetic", 4, 2, 3, {}, {3, 1, 4, 1}};
  for (std::size_t i = 0; i < 24; ++i) ds.pixels.push_back(static_cast<std::uint8_t>(i * 11));
  ds.pixels[0] = 0;
  ds.pixels[23] = 255;
  const std::uint32_t idx[] = {3, 0, 3};
  std::vector<float> out(3 * 6, -1.0F);
  memplast::data::gather_float(ds, idx, 3, out.data());
  for (std::size_t k = 0; k < 3; ++k) {
    for (std::size_t p = 0; p < 6; ++p) {
      const float v = out[k * 6 + p];
      EXPECT_GE(v, 0.0F);
      EXPECT_LE(v, 1.0F);
      EXPECT_EQ(v, static_cast<float>(ds.pixels[idx[k] * 6 + p]) / 255.0F);
    }
  }
  EXPECT_EQ(out[5], 1.0F);
  EXPECT_EQ(out[6], 0.0F);
  std::uint8_t labels[3] = {};
  memplast::data::gather_labels(ds, idx, 3, labels);
  EXPECT_EQ(labels[0], 1);
  EXPECT_EQ(labels[1], 3);
  const std::uint32_t bad[] = {0, 4};
  EXPECT_THROW(memplast::data::gather_float(ds, bad, 2, out.data()), std::out_of_range);
}

TEST(Dataset, SplitIsFirstNAndRest) {
  memplast::data::Dataset ds{"d", 5, 1, 2, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {0, 1, 2, 3, 4}};
  const auto [first, rest] = memplast::data::split(ds, 2);
  EXPECT_EQ(first.count, 2U);
  EXPECT_EQ(rest.count, 3U);
  EXPECT_EQ(first.pixels, (Bytes{0, 1, 2, 3}));
  EXPECT_EQ(rest.pixels, (Bytes{4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(rest.labels, (Bytes{2, 3, 4}));
  EXPECT_EQ(rest.rows, 1U);
  EXPECT_EQ(memplast::data::split(ds, 5).rest.count, 0U);
  EXPECT_THROW(memplast::data::split(ds, 6), std::invalid_argument);
}

// Real data: runs only after scripts/setup has fetched it.
TEST(RealData, MnistAndFashionMnist) {
  // $MEMPLAST_DATA_DIR, else $MEMPLAST_SOURCE_DIR/data (set by ctest), else the
  // compile-time MEMPLAST_DATA_DIR, else ./data.
  std::string dir = "data";
#ifdef MEMPLAST_DATA_DIR
  dir = MEMPLAST_DATA_DIR;
#endif
  if (const char* src = std::getenv("MEMPLAST_SOURCE_DIR")) dir = (fs::path(src) / "data").string();
  if (const char* env = std::getenv("MEMPLAST_DATA_DIR")) dir = env;
  for (const std::string task : {"mnist", "fashion_mnist"}) {
    if (!fs::exists(fs::path(dir) / task)) {
      GTEST_SKIP() << dir << "/" << task << " absent; run scripts/setup";
    }
    const auto td = memplast::data::load_task(dir, task);
    EXPECT_EQ(td.train.count, 60000U) << task;
    EXPECT_EQ(td.test.count, 10000U) << task;
    for (const auto* ds : {&td.train, &td.test}) {
      EXPECT_EQ(ds->rows, 28U);
      EXPECT_EQ(ds->cols, 28U);
      EXPECT_EQ(ds->pixels.size(), ds->count * 784U);
      std::vector<std::size_t> per_class(10, 0);
      for (auto l : ds->labels) per_class[l]++;
      for (auto c : per_class) EXPECT_GT(c, ds->count / 20) << task;  // every class present
    }
  }
}
