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
  where nvidia-smi >nul 2>nul && (
    rem NVIDIA GPU: the CUDA build of torch comes from PyTorch's own package index.
    .venv\Scripts\python.exe -m pip install --quiet torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128
  ) || (
    .venv\Scripts\python.exe -m pip install --quiet torch==2.13.0
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
