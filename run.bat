@echo off
rem One click on Windows: set up Maple in .venv (first time only) and open the launcher.
setlocal
cd /d "%~dp0"
if not exist .venv\Scripts\python.exe (
  py -3.11 -m venv .venv 2>nul || python -m venv .venv || goto :nopython
)
set STAMP=.venv\.maple-setup
if not exist %STAMP% (
  echo [maple] installing Maple and its engine into .venv ^(first run takes a few minutes^)
  .venv\Scripts\python.exe -m pip install --quiet --upgrade pip
  rem On Windows the default package index serves a CPU-only torch. The engine installer's decision
  rem table names PyTorch's CUDA index that fits the NVIDIA card and driver (nothing without one);
  rem MAPLE_TORCH_INDEX_URL set by hand wins.
  if not defined MAPLE_TORCH_INDEX_URL (
    .venv\Scripts\python.exe -m pip install --quiet -c constraints.txt nvidia-ml-py || goto :failed
    for /f "usebackq delims=" %%i in (`.venv\Scripts\python.exe -m installer.engine_install --print-index`) do set "MAPLE_TORCH_INDEX_URL=%%i"
  )
  if defined MAPLE_TORCH_INDEX_URL echo [maple] torch and torchvision from %MAPLE_TORCH_INDEX_URL%
  if defined MAPLE_TORCH_INDEX_URL (
    .venv\Scripts\python.exe -m pip install --quiet torch==2.13.0 torchvision==0.28.0 --index-url %MAPLE_TORCH_INDEX_URL% || goto :failed
  ) else (
    .venv\Scripts\python.exe -m pip install --quiet torch==2.13.0 torchvision==0.28.0 || goto :failed
  )
  .venv\Scripts\python.exe -m pip install --quiet -c constraints.txt -e ".[engine]" || goto :failed
  .venv\Scripts\python.exe -m pip uninstall --quiet -y installer >nul 2>nul
  echo done> %STAMP%
)
start "" .venv\Scripts\maple.exe %*
exit /b 0
:nopython
echo Maple needs Python 3.10 to 3.13 (3.11 recommended) from python.org, with "Add to PATH" ticked.
pause
exit /b 1
:failed
echo The set-up failed; see the messages above. Run run.bat again to retry.
pause
exit /b 1
