#include "data/synth/background.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace gcl::data {
namespace {

// Colours are drawn as 8-bit RGB scalars (the plate is RGB, not OpenCV's BGR).
cv::Scalar Rgb(cv::RNG& rng, int lo, int hi) {
  return cv::Scalar(rng.uniform(lo, hi), rng.uniform(lo, hi), rng.uniform(lo, hi));
}

cv::Scalar Saturated(cv::RNG& rng) {
  static const int kColours[][3] = {{200, 30, 30},  {30, 120, 200}, {230, 200, 40}, {30, 150, 60},
                                    {220, 110, 20}, {150, 40, 160}, {240, 240, 240}, {20, 20, 20},
                                    {200, 90, 140}, {40, 170, 170}};
  const int* c = kColours[rng.uniform(0, 10)];
  return cv::Scalar(c[0], c[1], c[2]);
}

cv::Scalar Shade(const cv::Scalar& c, double f) { return cv::Scalar(c[0] * f, c[1] * f, c[2] * f); }

void DrawWindows(cv::Mat& img, int top, int bottom, cv::RNG& rng) {
  const int w = img.cols;
  const int cell_w = std::max(8, rng.uniform(img.rows / 4, img.rows / 2));
  const int cell_h = std::max(8, rng.uniform(img.rows / 5, img.rows / 3));
  const cv::Scalar glass = Rgb(rng, 30, 90);
  const cv::Scalar frame = Rgb(rng, 150, 240);
  for (int y = top + cell_h / 4; y + cell_h / 2 < bottom; y += cell_h) {
    for (int x = rng.uniform(0, cell_w); x < w; x += cell_w) {
      const cv::Rect r(x, y, cell_w * 3 / 5, cell_h * 3 / 5);
      cv::rectangle(img, r, Shade(glass, rng.uniform(0.6, 1.4)), cv::FILLED);
      cv::rectangle(img, r, frame, std::max(1, cell_w / 16));
    }
  }
}

void DrawTiles(cv::Mat& img, int top, cv::RNG& rng, const cv::Scalar& base, const cv::Scalar& joint) {
  cv::rectangle(img, cv::Rect(0, top, img.cols, img.rows - top), base, cv::FILLED);
  // Joints converge towards a vanishing point above the plate: a cheap ground-plane perspective.
  const int vanish_y = top - img.rows;
  for (int x = -img.cols; x < 2 * img.cols; x += std::max(6, img.rows / 6)) {
    const int x_top = img.cols / 2 + (x - img.cols / 2) * (top - vanish_y) / (img.rows - vanish_y);
    cv::line(img, cv::Point(x_top, top), cv::Point(x, img.rows), joint, 1, cv::LINE_AA);
  }
  for (int y = top, step = 3; y < img.rows; y += step, step += 2) {
    cv::line(img, cv::Point(0, y), cv::Point(img.cols, y), joint, 1, cv::LINE_AA);
  }
  (void)rng;
}

void DrawClutter(cv::Mat& img, int horizon, cv::RNG& rng) {
  // Poles, bins and far-away passers-by standing on the ground line.
  const int count = rng.uniform(2, 6) * img.cols / std::max(1, img.rows);
  for (int i = 0; i < count; ++i) {
    const int x = rng.uniform(0, img.cols);
    const int kind = rng.uniform(0, 3);
    if (kind == 0) {
      const int width = std::max(2, img.rows / 30);
      cv::rectangle(img, cv::Rect(x, 0, width, horizon + img.rows / 10), Rgb(rng, 40, 120), cv::FILLED);
    } else if (kind == 1) {
      const int bw = img.rows / 6, bh = img.rows / 5;
      cv::rectangle(img, cv::Rect(x, horizon - bh + img.rows / 12, bw, bh), Saturated(rng), cv::FILLED);
    } else {
      const int ph = img.rows / rng.uniform(3, 6);
      const int pw = std::max(3, ph / 3);
      const int foot = horizon + rng.uniform(0, std::max(1, (img.rows - horizon) / 3));
      cv::ellipse(img, cv::Point(x, foot - ph / 2), cv::Size(pw / 2, ph * 2 / 5), 0, 0, 360, Rgb(rng, 10, 200),
                  cv::FILLED);
      cv::circle(img, cv::Point(x, foot - ph + pw / 3), std::max(1, pw / 3), Rgb(rng, 60, 200), cv::FILLED);
    }
  }
}

}  // namespace

cv::Mat MakeBackgroundPlate(BackgroundStyle style, cv::Size size, float horizon_fraction, uint64_t seed) {
  if (size.width < 8 || size.height < 8) throw std::invalid_argument("MakeBackgroundPlate: size too small");
  cv::RNG rng(seed == 0 ? 1 : seed);
  cv::Mat img(size, CV_8UC3);
  const int horizon = std::clamp(static_cast<int>(horizon_fraction * size.height), 0, size.height);
  const int h = size.height;
  switch (style) {
    case BackgroundStyle::kPavement: {
      img.setTo(Rgb(rng, 140, 220));
      DrawWindows(img, 0, horizon, rng);
      DrawTiles(img, horizon, rng, Rgb(rng, 120, 180), Rgb(rng, 70, 110));
      break;
    }
    case BackgroundStyle::kPark: {
      img.setTo(cv::Scalar(rng.uniform(140, 200), rng.uniform(170, 220), rng.uniform(200, 250)));
      for (int i = 0; i < size.width / std::max(1, h / 4); ++i) {
        const cv::Point c(rng.uniform(0, size.width), rng.uniform(0, std::max(1, horizon)));
        cv::rectangle(img, cv::Rect(c.x - h / 40, c.y, std::max(2, h / 20), h), cv::Scalar(70, 50, 30), cv::FILLED);
        cv::circle(img, c, rng.uniform(h / 6, h / 3),
                   cv::Scalar(rng.uniform(20, 80), rng.uniform(80, 150), rng.uniform(20, 60)), cv::FILLED);
      }
      cv::rectangle(img, cv::Rect(0, horizon, size.width, h - horizon),
                    cv::Scalar(rng.uniform(50, 100), rng.uniform(110, 160), rng.uniform(40, 70)), cv::FILLED);
      const int path_top = horizon + (h - horizon) / 3;
      cv::rectangle(img, cv::Rect(0, path_top, size.width, (h - horizon) / 2), Rgb(rng, 150, 200), cv::FILLED);
      break;
    }
    case BackgroundStyle::kBrickWall: {
      const cv::Scalar brick(rng.uniform(120, 180), rng.uniform(50, 80), rng.uniform(30, 60));
      const cv::Scalar mortar = Rgb(rng, 150, 200);
      img.setTo(mortar);
      const int bh = std::max(3, h / 24), bw = bh * 3;
      for (int y = 0, row = 0; y < horizon; y += bh, ++row) {
        for (int x = (row % 2) * bw / 2 - bw; x < size.width; x += bw) {
          cv::rectangle(img, cv::Rect(x + 1, y + 1, bw - 2, bh - 2), Shade(brick, rng.uniform(0.75, 1.2)),
                        cv::FILLED);
        }
      }
      const int graffiti = rng.uniform(1, 4);
      for (int i = 0; i < graffiti; ++i) {
        cv::ellipse(img, cv::Point(rng.uniform(0, size.width), rng.uniform(0, std::max(1, horizon))),
                    cv::Size(h / 3, h / 8), rng.uniform(0, 180), 0, 360, Saturated(rng), std::max(2, h / 30));
      }
      DrawTiles(img, horizon, rng, Rgb(rng, 50, 90), Rgb(rng, 30, 50));
      break;
    }
    case BackgroundStyle::kShopFront: {
      img.setTo(Rgb(rng, 60, 200));
      for (int x = 0; x < size.width;) {
        const int shop_w = rng.uniform(h / 2, h * 3 / 2);
        const cv::Scalar colour = Saturated(rng);
        cv::rectangle(img, cv::Rect(x, h / 20, shop_w, h / 8), colour, cv::FILLED);  // sign
        cv::rectangle(img, cv::Rect(x + shop_w / 10, h / 4, shop_w * 8 / 10, std::max(1, horizon - h / 4)),
                      Shade(Rgb(rng, 60, 200), 0.6), cv::FILLED);  // window
        for (int k = 0; k < 4; ++k) {  // goods in the window
          cv::circle(img, cv::Point(x + rng.uniform(shop_w / 5, shop_w * 4 / 5), rng.uniform(h / 3, std::max(h / 3 + 1, horizon))),
                     rng.uniform(2, std::max(3, h / 12)), Saturated(rng), cv::FILLED);
        }
        x += shop_w + rng.uniform(2, h / 6 + 3);
      }
      DrawTiles(img, horizon, rng, Rgb(rng, 130, 190), Rgb(rng, 90, 120));
      break;
    }
    case BackgroundStyle::kRoad: {
      img.setTo(Rgb(rng, 150, 210));
      DrawWindows(img, 0, horizon / 2, rng);
      for (int x = rng.uniform(0, h); x < size.width; x += rng.uniform(h, 2 * h)) {  // parked cars
        const int car_w = rng.uniform(h * 2 / 3, h), car_h = h / 4;
        const cv::Scalar colour = rng.uniform(0, 2) ? Saturated(rng) : Rgb(rng, 20, 230);
        cv::rectangle(img, cv::Rect(x, horizon - car_h, car_w, car_h), colour, cv::FILLED);
        cv::rectangle(img, cv::Rect(x + car_w / 5, horizon - car_h - car_h / 2, car_w * 3 / 5, car_h / 2),
                      Shade(colour, 0.7), cv::FILLED);
        cv::circle(img, cv::Point(x + car_w / 5, horizon), car_h / 3, cv::Scalar(15, 15, 15), cv::FILLED);
        cv::circle(img, cv::Point(x + car_w * 4 / 5, horizon), car_h / 3, cv::Scalar(15, 15, 15), cv::FILLED);
      }
      cv::rectangle(img, cv::Rect(0, horizon, size.width, h - horizon), Rgb(rng, 40, 80), cv::FILLED);
      const cv::Scalar marking = rng.uniform(0, 2) ? cv::Scalar(230, 230, 230) : cv::Scalar(230, 190, 40);
      for (int x = 0; x < size.width; x += h / 2) {
        cv::rectangle(img, cv::Rect(x, horizon + (h - horizon) * 2 / 3, h / 4, std::max(2, h / 40)), marking,
                      cv::FILLED);
      }
      break;
    }
    case BackgroundStyle::kIndoor: {
      img.setTo(Rgb(rng, 170, 240));
      for (int i = 0; i < size.width / std::max(1, h); ++i) {  // posters and doors
        const cv::Rect r(rng.uniform(0, size.width), rng.uniform(h / 10, h / 3), rng.uniform(h / 6, h / 3),
                         rng.uniform(h / 5, h / 2));
        cv::rectangle(img, r, rng.uniform(0, 2) ? Saturated(rng) : Rgb(rng, 40, 120), cv::FILLED);
      }
      cv::rectangle(img, cv::Rect(0, horizon - h / 30, size.width, h / 30 + 1), Rgb(rng, 30, 90), cv::FILLED);
      DrawTiles(img, horizon, rng, Rgb(rng, 160, 230), Rgb(rng, 120, 160));
      break;
    }
  }
  DrawClutter(img, horizon, rng);

  cv::Mat plate;
  img.convertTo(plate, CV_32FC3, 1.0 / 255.0);
  // Street scenes are mostly muted: pull colours more than halfway to their grey level (signs and cars keep some colour).
  cv::Mat grey, grey3;
  cv::cvtColor(plate, grey, cv::COLOR_RGB2GRAY);
  cv::merge(std::vector<cv::Mat>{grey, grey, grey}, grey3);
  cv::addWeighted(plate, 0.45, grey3, 0.55, 0.0, plate);
  // Fine texture and a slight defocus: the background is never the sharpest thing in a surveillance crop.
  cv::Mat grain(size, CV_32FC3);
  rng.fill(grain, cv::RNG::NORMAL, cv::Scalar::all(0.0), cv::Scalar::all(0.03));
  plate += grain;
  cv::GaussianBlur(plate, plate, cv::Size(0, 0), std::max(0.6, h / 160.0));
  cv::min(cv::max(plate, 0.0), 1.0, plate);
  return plate;
}

}  // namespace gcl::data
